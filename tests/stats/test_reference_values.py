"""benchgate.stats against reference values computed by independent tools.

The CSV files in fixtures/stats/ were written by the scripts beside them:
``generate_reference_r.R`` (base R 4.2: binom.test, mcnemar.test, prop.test, p.adjust,
uniroot, and full enumeration for power) and ``generate_reference_python.py`` (statsmodels,
exact rational arithmetic, mpmath). Neither imports benchgate. Every value is checked to
1e-9 relative.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from benchgate import stats

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stats"
REFERENCE_FILES = ("reference_r.csv", "reference_python.csv")
REL_TOL = 1e-9


def _parse_value(text: str) -> object:
    if "|" in text:
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _parse_args(text: str) -> dict[str, object]:
    args: dict[str, object] = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        args[key] = _parse_value(value)
    args.pop("source", None)  # marks a second tool for the same call; not an argument
    return args


def _load_cases() -> list[tuple[str, str, str, dict[str, float]]]:
    grouped: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    for name in REFERENCE_FILES:
        with (FIXTURES / name).open(newline="") as handle:
            for row in csv.DictReader(handle):
                key = (name, row["function"], row["args"])
                grouped[key][row["field"]] = float(row["value"])
    return [(name, function, args, fields) for (name, function, args), fields in grouped.items()]


CASES = _load_cases()


def _floats(text: object) -> list[float]:
    return [float(v) for v in str(text).split("|")]


def _compute(function: str, args: dict[str, object]) -> dict[str, float]:
    """Call the benchgate function named in the fixture and return its fields by name."""
    if function == "mcnemar":
        result = stats.mcnemar(args["b"], args["c"], args["method"], args["alternative"])
        return {"pvalue": result.pvalue, "statistic_squared": result.statistic**2}
    if function in ("wilson_interval", "paired_accuracy_difference", "conditional_odds_ratio"):
        interval = getattr(stats, function)(**args)
        return {"lower": interval.lower, "upper": interval.upper}
    if function in ("holm", "benjamini_hochberg"):
        adjusted = getattr(stats, function)(_floats(args["pvalues"]))
        return {f"adjusted[{i}]": float(v) for i, v in enumerate(adjusted)}
    if function == "cochrans_q":
        rows = str(args["outcomes"]).split("|")
        outcomes = np.array([[int(ch) for ch in row] for row in rows])
        result = stats.cochrans_q(outcomes)
        return {"statistic": result.statistic, "pvalue": result.pvalue}
    if function == "mcnemar_power":
        return {"value": stats.mcnemar_power(**args)}
    if function == "minimum_detectable_difference":
        return {"value": stats.minimum_detectable_difference(**args)}
    if function == "paired_permutation_test":
        result = stats.paired_permutation_test(
            _floats(args["x"]),
            _floats(args["y"]),
            n_resamples=args["n_resamples"],
            seed=args["seed"],
            alternative=args["alternative"],
        )
        assert result.exact
        return {"pvalue": result.pvalue, "statistic": result.statistic}
    raise AssertionError(f"fixture names an unknown function {function!r}")


def test_fixtures_cover_every_function_from_both_tools():
    by_file = defaultdict(set)
    for name, function, _, _ in CASES:
        by_file[name].add(function)
    assert by_file["reference_r.csv"] >= {
        "mcnemar",
        "wilson_interval",
        "paired_accuracy_difference",
        "conditional_odds_ratio",
        "holm",
        "benjamini_hochberg",
        "cochrans_q",
        "mcnemar_power",
        "minimum_detectable_difference",
    }
    assert by_file["reference_python.csv"] >= {
        "mcnemar",
        "wilson_interval",
        "conditional_odds_ratio",
        "holm",
        "benjamini_hochberg",
        "cochrans_q",
        "paired_permutation_test",
    }
    assert len(CASES) > 300


@pytest.mark.parametrize(
    ("source", "function", "args_text", "expected"),
    CASES,
    ids=[f"{name.split('.')[0]}:{function}:{args}"[:120] for name, function, args, _ in CASES],
)
def test_matches_reference(source, function, args_text, expected):
    actual = _compute(function, _parse_args(args_text))
    for field, want in expected.items():
        got = actual[field]
        # A reference of exactly 0 (e.g. a mean difference of 0 from exact arithmetic) cannot
        # be met relatively by floating-point sums; allow 1e-15 absolute there only.
        abs_tol = 1e-15 if want == 0.0 else 0.0
        assert math.isclose(
            got, want, rel_tol=REL_TOL, abs_tol=abs_tol
        ), f"{function}({args_text}).{field}: benchgate {got!r} vs {source} {want!r}"


# The worked example named in issue 3 after Fagerland, Lydersen & Laake (2013): b = 86,
# c = 150. Expected two-sided p-values are the fixture values, on which base R (binom.test,
# mcnemar.test, the paper's mid-p formula) and exact rational arithmetic / statsmodels agree.
FAGERLAND_EXAMPLE = {
    "exact": 3.71593613957143e-05,
    "midp": 2.8933895176154746e-05,
    "asymptotic": 3.099293441045209e-05,
    "asymptotic_cc": 4.114562281345944e-05,
}


@pytest.mark.parametrize("method", sorted(FAGERLAND_EXAMPLE))
def test_fagerland_worked_example(method):
    result = stats.mcnemar(86, 150, method=method)
    assert result.b == 86 and result.c == 150 and result.n_discordant == 236
    assert result.statistic == pytest.approx(64 / math.sqrt(236), rel=1e-12)
    assert result.pvalue == pytest.approx(FAGERLAND_EXAMPLE[method], rel=1e-9)
    # The candidate improved (c > b): strong evidence for "greater", none for "less".
    assert stats.mcnemar(86, 150, method=method, alternative="greater").pvalue < 1e-4
    assert stats.mcnemar(86, 150, method=method, alternative="less").pvalue > 0.999


def test_example_ordering_of_methods():
    # Fagerland et al.'s finding on their small example (1 vs 7 discordant pairs): the exact
    # conditional test is the most conservative, mid-p sits between it and the asymptotic.
    p = {m: stats.mcnemar(7, 1, method=m).pvalue for m in FAGERLAND_EXAMPLE}
    assert p["asymptotic"] < p["midp"] < p["exact"] < p["asymptotic_cc"]
    assert p["midp"] < 0.05 < p["exact"]
