"""The gate's thresholds, in one unit, and the parser that reads them from the command line.

Every rate and difference inside benchgate is a **fraction** of items (0.05 = 5 accuracy
points). On the command line each threshold accepts three spellings of the same value:
``5%``, ``5pt`` (accuracy points; also ``pts``) or a fraction ``0.05``. A bare number above
1 is ambiguous (did ``--mde-max 5`` mean five points or 500 %?) and is refused with a
message naming the option and both readings. Reports print points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

#: The finding kinds that ``--fail-on`` can turn into a failing status.
FINDING_KINDS = (
    "no-answer-jump",
    "errors-excluded",
    "not-measured",
    "inconclusive",
    "reasoning-only",
    "noise-floor",
    "stand-in",
    "unpaired-extra",
    "sandbox-none",
)

_VALUE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|pts?|points?)?\s*$")


class ThresholdError(ValueError):
    """A threshold option's text cannot be read; the message names option, value and fix."""


def parse_fraction(text: str | float | int, option: str) -> float:
    """Read a threshold written as ``5%``, ``5pt`` or ``0.05`` into a fraction.

    Args:
        text: the option's value as typed (a number is taken as a fraction).
        option: the option's name for the message, e.g. ``--mde-max``.

    Returns:
        The fraction (``"5%"`` -> 0.05, ``"5pt"`` -> 0.05, ``"0.05"`` -> 0.05).

    Raises:
        ThresholdError: not a number with an optional unit, not finite, negative, or a
            bare number above 1 (ambiguous between points and a fraction).
    """
    if isinstance(text, bool):
        raise ThresholdError(f"{option}: {text!r} is not a number")
    if isinstance(text, int | float):
        raw, unit = str(text), None
        value = float(text)
    else:
        match = _VALUE.match(str(text))
        if not match:
            raise ThresholdError(
                f"{option} {text!r}: not a number. Fix: write a fraction (0.05), a percentage "
                "(5%) or accuracy points (5pt)."
            )
        raw, unit = match.group(1), match.group(2)
        value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ThresholdError(f"{option} {text!r}: must be a finite value >= 0.")
    if unit is not None:
        return value / 100.0
    if value > 1:
        raise ThresholdError(
            f"{option} {text!r} is ambiguous: a bare number is a fraction of items (0 to 1). "
            f"Fix: write {raw}pt (or {raw}%) for {raw} points, or {value / 100:g} as a fraction."
        )
    return value


@dataclass(frozen=True)
class GateSettings:
    """The gate's thresholds.

    All rates and differences are fractions of items (0.05 = 5 accuracy points); graded
    benchmarks use the same numbers on the score's own 0-1 scale.

    Attributes:
        alpha: family-wise significance level of the one-sided regression test, in (0, 1).
        margin: a significant drop (baseline minus candidate accuracy) must also exceed
            this to count as a regression, in [0, 1).
        mde_max: largest acceptable minimum detectable drop, in (0, 1]; above it "no
            regression" cannot be claimed (verdict *inconclusive*).
        power: power at which the minimum detectable drop is computed, in (0, 1).
        strict_power: an *inconclusive* comparison fails the gate.
        max_error_rate: share of *error* outcomes of a (model, benchmark) above which the
            gate fails, in [0, 1].
        no_answer_jump: rise of a candidate's no_answer rate over the baseline's (paired
            items) that is reported as a finding, in (0, 1].
        confidence: level of the reported intervals, in (0, 1).
        fail_on: finding kinds (:data:`FINDING_KINDS`) that fail the gate.
        allow_partial: a run that did not measure everything it planned may still PASS on
            the complete pairs it has (reports say so).
        seed: seed of the resampling statistics (bootstrap, permutation).

    Raises:
        ValueError: a value out of range (the message names the setting and the value).
    """

    alpha: float = 0.05
    margin: float = 0.0
    mde_max: float = 0.05
    power: float = 0.8
    strict_power: bool = False
    max_error_rate: float = 0.05
    no_answer_jump: float = 0.05
    confidence: float = 0.95
    fail_on: tuple[str, ...] = ()
    allow_partial: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "alpha": (self.alpha, 0.0, 1.0, False, False),
            "margin": (self.margin, 0.0, 1.0, True, False),
            "mde_max": (self.mde_max, 0.0, 1.0, False, True),
            "power": (self.power, 0.0, 1.0, False, False),
            "max_error_rate": (self.max_error_rate, 0.0, 1.0, True, True),
            "no_answer_jump": (self.no_answer_jump, 0.0, 1.0, False, True),
            "confidence": (self.confidence, 0.0, 1.0, False, False),
        }
        for name, (value, low, high, low_ok, high_ok) in checks.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
            above = value >= low if low_ok else value > low
            below = value <= high if high_ok else value < high
            if not (above and below):
                lo, hi = ("[" if low_ok else "("), ("]" if high_ok else ")")
                raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")
        unknown = [k for k in self.fail_on if k not in FINDING_KINDS]
        if unknown:
            raise ValueError(
                f"fail_on: unknown finding kind {', '.join(unknown)}; known: "
                f"{', '.join(FINDING_KINDS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as builtins (``fail_on`` as a list)."""
        out = dict(self.__dict__)
        out["fail_on"] = list(self.fail_on)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateSettings:
        """Rebuild settings from :meth:`to_dict` output (unknown keys ignored)."""
        names = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in names}
        if "fail_on" in values:
            values["fail_on"] = tuple(values["fail_on"])
        return cls(**values)
