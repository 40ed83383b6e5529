"""Energy per response: GPU energy from NVML, CPU package energy from RAPL, split by tokens.

(Past 600 lines on purpose: one concern, whose parts (the arithmetic, the two sources, the
sampling window, the per-model monitor) share one trace format and are read together.)

One :class:`EnergyMonitor` per process (the evaluator's). Around each batch that a local
model generates, :meth:`EnergyMonitor.start` opens an :class:`EnergyWindow` that reads the
model's energy sources; :meth:`EnergyMonitor.stop` closes it and returns the joules the
batch used; :func:`apportion` gives each completion its share. What was measured, how, and
why not (once per model, never per item) is in :meth:`EnergyMonitor.status`.

Sources, per model, decided once on its first batch:

* **GPU** (``transformers`` on ``cuda:N``, or ``auto`` = every visible GPU): NVML through
  ``nvidia-ml-py`` (imported lazily). The total energy counter
  (``nvmlDeviceGetTotalEnergyConsumption``, millijoules since the driver loaded; Volta and
  newer) where the card has it; else the board power (``nvmlDeviceGetPowerUsage``,
  milliwatts) sampled every :data:`SAMPLE_INTERVAL_S` (20 Hz) in a thread and integrated with
  the trapezoidal rule over the actual, irregular sample times.
* **CPU package** (any local model, when readable): RAPL through the Linux powercap sysfs,
  ``/sys/class/powercap/intel-rapl:<N>/energy_uj`` of every package domain (``name`` =
  ``package-<N>``; sub-domains such as ``core`` and ``dram`` are inside it or apart and are
  not added), with wrap-around at ``max_energy_range_uj``. Since Linux 5.10 ``energy_uj`` is
  readable by root only (CVE-2020-8694), so it often is not.
* A GPU model's energy is GPU + CPU package when RAPL is readable, GPU alone otherwise (the
  status says which); without NVML it is None (a CPU-only figure would hide the GPU's
  share). A CPU model's energy is the CPU package's, or None without RAPL.
* ``openai`` (a remote server: the energy is spent there, local counters do not see it) and
  ``scripted`` (nothing is computed): None, with that reason.

Both counters measure the whole device: another process on the same GPU or CPU package
during a batch is counted too (the status says so). Run one model per GPU.

Apportioning (:func:`apportion`): a batch's energy is split over its completions in
proportion to **prompt + completion tokens**. Every token, read or generated, takes one
forward pass through the model, about ``2 N`` FLOPs for ``N`` parameters (Kaplan et al.
2020, section 2.1), so a long prompt costs energy even when the answer is one token (a
multiple-choice item); splitting by completion tokens alone would give such items equal
shares whatever their prompt length. Generated tokens are memory-bound and cost more per
token than prompt tokens in practice (Wilkins, Keshav and Mortier 2024 fit separate
coefficients), so this split is an approximation that moves some energy from long answers
to long prompts. Error completions get None (no response), and their share is not given to
the others.

References:
    NVIDIA, "NVML API Reference": ``nvmlDeviceGetTotalEnergyConsumption``,
    ``nvmlDeviceGetPowerUsage`` ("On Ampere (except GA100) or newer GPUs, the API returns
    power averaged over 1 sec interval").
    Linux kernel, ``Documentation/power/powercap/powercap.rst`` and
    ``Documentation/ABI/testing/sysfs-class-powercap`` (``energy_uj``,
    ``max_energy_range_uj``).
    J. Kaplan et al., "Scaling Laws for Neural Language Models", arXiv:2001.08361, 2020.
    G. Wilkins, S. Keshav, R. Mortier, "Offline Energy-Optimal LLM Serving: Workload-Based
    Energy Models for LLM Inference on Heterogeneous Systems", 2024.
    "Is GPT-OSS Good?", arXiv:2508.12461 (energy per response).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchgate.records import Completion

log = logging.getLogger(__name__)

#: Seconds between two samples of the sampling thread (20 Hz: power is integrated from it).
SAMPLE_INTERVAL_S = 0.05

#: Which tokens a batch's energy is split by (see the module docstring).
APPORTIONED_BY = "prompt+completion tokens"

#: Where Linux exposes RAPL.
POWERCAP_ROOT = Path("/sys/class/powercap")


class EnergyUnavailable(Exception):
    """A source cannot be read; the message is the reason, with the fix where there is one."""


# --------------------------------------------------------------------------- arithmetic


def counter_delta(start: float, end: float, max_range: float | None) -> float:
    """Return how far a cumulative counter moved from ``start`` to ``end``.

    Rule: ``end - start``; when ``end < start`` the counter wrapped at ``max_range`` once,
    so the delta is ``(max_range - start) + end`` (Linux powercap: ``energy_uj`` counts up to
    ``max_energy_range_uj`` and starts again from 0).

    Args:
        start: the first reading (counter units, e.g. microjoules).
        end: the later reading.
        max_range: the counter's range, or None for a counter that never wraps.

    Returns:
        The delta in counter units (>= 0).

    Raises:
        ValueError: ``end < start`` on a counter without ``max_range``, or a reading outside
            ``[0, max_range]``.
    """
    if end >= start:
        return end - start
    if max_range is None:
        raise ValueError(f"counter went back from {start} to {end} and has no wrap range")
    if start > max_range or end < 0:
        raise ValueError(f"reading outside the counter's range [0, {max_range}]: {start}, {end}")
    return (max_range - start) + end


def counter_energy(readings: Sequence[float | None], max_range: float | None) -> float:
    """Sum a cumulative counter's deltas over successive readings, wrap-arounds included.

    Reading often enough (at least once per wrap period) makes every wrap visible: a RAPL
    package counter's range is typically 262,143 J (``max_energy_range_uj`` = 2^38 µJ),
    which a 200 W package goes through in about 22 minutes, so the sampling thread reads it
    at every sample.

    Args:
        readings: the counter's values in time order (counter units); None marks a failed
            read.
        max_range: the counter's wrap range (RAPL ``max_energy_range_uj``), or None.

    Returns:
        The total, in counter units.

    Raises:
        ValueError: fewer than two readings, or a None among them (a missing reading hides
            how often the counter wrapped), or see :func:`counter_delta`.
    """
    if len(readings) < 2:
        raise ValueError("need at least two readings")
    if any(r is None for r in readings):
        raise ValueError("a reading is missing")
    values = [float(r) for r in readings]  # type: ignore[arg-type]
    return sum(counter_delta(a, b, max_range) for a, b in zip(values, values[1:], strict=False))


def integrate_power(times_s: Sequence[float], watts: Sequence[float | None]) -> float:
    """Integrate sampled power over time with the trapezoidal rule, intervals as sampled.

    ``E = sum_i (P_{i-1} + P_i) / 2 * (t_i - t_{i-1})`` over successive samples, so a late
    or irregular sample weighs what its interval really lasted.

    Args:
        times_s: sample times in seconds (monotonic, non-decreasing).
        watts: power at each time, in watts; None marks a failed read.

    Returns:
        Joules.

    Raises:
        ValueError: lengths differ, fewer than two samples, a time going back, or a missing
            sample.
    """
    if len(times_s) != len(watts):
        raise ValueError(f"{len(times_s)} times but {len(watts)} power samples")
    if len(times_s) < 2:
        raise ValueError("need at least two power samples")
    if any(w is None for w in watts):
        raise ValueError("a power sample is missing")
    total = 0.0
    for i in range(1, len(times_s)):
        dt = times_s[i] - times_s[i - 1]
        if dt < 0:
            raise ValueError(f"sample times go back at sample {i}")
        total += (watts[i - 1] + watts[i]) / 2.0 * dt  # type: ignore[operator]
    return total


def apportion(total_j: float | None, completions: Sequence[Completion]) -> list[float | None]:
    """Split a batch's energy over its completions by prompt + completion tokens.

    Args:
        total_j: the batch's energy in joules, or None when not measured.
        completions: the batch's completions.

    Returns:
        One value per completion, in order: ``total_j * tokens_i / sum(tokens)`` where tokens
        = prompt + completion tokens of every completion in the batch (errors included);
        None for error completions, and for all when ``total_j`` is None or no completion
        has tokens.
    """
    weights = [max(0, c.prompt_tokens) + max(0, c.completion_tokens) for c in completions]
    denominator = sum(weights)
    if total_j is None or denominator <= 0:
        return [None] * len(completions)
    return [None if c.error is not None else total_j * w / denominator
            for c, w in zip(completions, weights, strict=True)]


# --------------------------------------------------------------------------- sources


@dataclass
class RaplPackages:
    """The RAPL package domains of this machine (Linux powercap).

    Attributes:
        files: each package's ``energy_uj`` file.
        max_ranges_uj: each package's ``max_energy_range_uj``.
        names: each package's domain name (``package-0``...).
    """

    files: list[Path]
    max_ranges_uj: list[int]
    names: list[str]

    @classmethod
    def open(cls, root: Path = POWERCAP_ROOT) -> RaplPackages:
        """Find and read the package domains once.

        Args:
            root: the powercap sysfs directory.

        Raises:
            EnergyUnavailable: no package domain, or one that cannot be read (the reason
                names the file and the fix).
        """
        zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        packages = []
        for zone in zones:
            try:
                name = (zone / "name").read_text().strip()
            except OSError:
                continue
            if name.startswith("package"):
                packages.append((zone, name))
        if not packages:
            raise EnergyUnavailable(
                f"RAPL: no package domain under {root} (no intel-rapl powercap driver: not an "
                "Intel/AMD x86 CPU, or a VM/container that hides it)"
            )
        files, ranges, names = [], [], []
        for zone, name in packages:
            try:
                ranges.append(int((zone / "max_energy_range_uj").read_text()))
                int((zone / "energy_uj").read_text())
            except PermissionError:
                raise EnergyUnavailable(
                    f"RAPL: {zone / 'energy_uj'} is not readable (root only since Linux 5.10, "
                    f"CVE-2020-8694). Fix: sudo chmod a+r {root}/intel-rapl:*/energy_uj, or a "
                    "udev rule doing that"
                ) from None
            except (OSError, ValueError) as exc:
                raise EnergyUnavailable(f"RAPL: {zone} cannot be read ({exc})") from None
            files.append(zone / "energy_uj")
            names.append(name)
        return cls(files, ranges, names)

    def read(self) -> list[int]:
        """Read every package's counter, in microjoules (raises OSError/ValueError)."""
        return [int(f.read_text()) for f in self.files]


class NvmlGpus:
    """The GPUs a model uses, read through NVML.

    Args:
        handles: NVML device handles.
        labels: one label per GPU for the status (``cuda:0 NVIDIA H100 80GB HBM3``).
        nvml: the ``pynvml`` module.

    Attributes:
        counter: True when every GPU has the total energy counter; else power is sampled.
    """

    def __init__(self, handles: list[Any], labels: list[str], nvml: Any) -> None:
        self.handles = handles
        self.labels = labels
        self.nvml = nvml
        self.counter = True
        for handle in handles:
            try:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            except nvml.NVMLError:
                self.counter = False

    @property
    def method(self) -> str:
        """``nvml-energy-counter`` or ``nvml-power-sampling``."""
        return "nvml-energy-counter" if self.counter else "nvml-power-sampling"

    def read(self) -> list[float]:
        """Millijoules per GPU (counter) or watts per GPU (sampling); raises NVMLError."""
        if self.counter:
            return [float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self.handles]
        return [self.nvml.nvmlDeviceGetPowerUsage(h) / 1000.0 for h in self.handles]


def _nvml() -> Any:
    """Import and initialise NVML once per process (raises EnergyUnavailable)."""
    try:
        import pynvml
    except ImportError:
        raise EnergyUnavailable(
            "NVML: nvidia-ml-py is not installed. Fix: pip install nvidia-ml-py"
        ) from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise EnergyUnavailable(f"NVML: cannot initialise ({exc}): no NVIDIA driver?") from None
    return pynvml


def open_gpus(device: str) -> NvmlGpus:
    """Open the GPUs a local model runs on.

    Args:
        device: ``cuda``/``cuda:N`` (that CUDA device) or ``auto`` (every visible CUDA
            device, as ``device_map="auto"`` spreads over them).

    Returns:
        The GPUs. A CUDA index is matched to NVML by the device's UUID from torch (CUDA and
        NVML may number GPUs differently, and ``CUDA_VISIBLE_DEVICES`` renumbers them).

    Raises:
        EnergyUnavailable: no NVML, no CUDA, or a GPU NVML cannot find.
    """
    nvml = _nvml()
    try:
        import torch
    except ImportError:
        raise EnergyUnavailable("NVML: torch is not installed, CUDA devices unknown") from None
    if not torch.cuda.is_available():
        raise EnergyUnavailable("NVML: torch sees no CUDA device")
    if device == "auto":
        indices = list(range(torch.cuda.device_count()))
    else:
        indices = [int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()]
    handles, labels = [], []
    for index in indices:
        props = torch.cuda.get_device_properties(index)
        uuid = getattr(props, "uuid", None)
        try:
            if uuid is not None:
                text = str(uuid)
                handle = nvml.nvmlDeviceGetHandleByUUID(text if text.startswith("GPU-")
                                                        else f"GPU-{text}")
            else:  # old torch: assume CUDA and NVML order agree (CUDA_DEVICE_ORDER=PCI_BUS_ID)
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
        except nvml.NVMLError as exc:
            raise EnergyUnavailable(f"NVML: no handle for cuda:{index} ({exc})") from None
        handles.append(handle)
        labels.append(f"cuda:{index} {props.name}")
    return NvmlGpus(handles, labels, nvml)


# --------------------------------------------------------------------------- windows


@dataclass
class Sources:
    """What one model's batches are measured with (decided on its first batch).

    Attributes:
        gpus: its GPUs, or None.
        rapl: the CPU packages, or None.
        reason: why the energy is None for this model (None when measurable).
        notes: what the figure covers and leaves out, for the status.
    """

    gpus: NvmlGpus | None = None
    rapl: RaplPackages | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


class EnergyWindow:
    """Reads a model's sources from :meth:`open` to :meth:`close` (one batch).

    A thread reads every source each :data:`SAMPLE_INTERVAL_S` seconds (the counters too,
    so no RAPL wrap is missed); the first and last readings are taken in :meth:`open` and
    :meth:`close` themselves.

    Args:
        sources: what to read.
        interval_s: seconds between samples.
        clock: monotonic clock in seconds.
    """

    def __init__(self, sources: Sources, interval_s: float = SAMPLE_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sources = sources
        self.interval_s = interval_s
        self.clock = clock
        self.times: list[float] = []
        self.gpu: list[list[float] | None] = []
        self.cpu: list[list[int] | None] = []
        self.failure: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        gpu = cpu = None
        if self.sources.gpus is not None:
            try:
                gpu = self.sources.gpus.read()
            except Exception as exc:  # noqa: BLE001 - NVMLError and friends: a missing sample
                self.failure = self.failure or f"NVML read failed: {exc}"
        if self.sources.rapl is not None:
            try:
                cpu = self.sources.rapl.read()
            except (OSError, ValueError) as exc:
                self.failure = self.failure or f"RAPL read failed: {exc}"
        with self._lock:
            self.times.append(self.clock())
            self.gpu.append(gpu)
            self.cpu.append(cpu)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def open(self) -> EnergyWindow:
        """Take the first reading and start the sampling thread."""
        self._sample()
        self._thread = threading.Thread(target=self._run, name="benchgate-energy", daemon=True)
        self._thread.start()
        return self

    def close(self) -> tuple[float | None, str | None]:
        """Stop sampling, take the last reading, and compute the window's energy.

        Returns:
            ``(joules, None)``, or ``(None, reason)`` when a reading failed or a trace is
            inconsistent.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        return window_energy(self.sources, self.times, self.gpu, self.cpu, self.failure)

    def sample_rate_hz(self) -> float | None:
        """The slowest rate the samples came at (1 / longest interval), or None."""
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        return 1.0 / max(gaps) if gaps and max(gaps) > 0 else None


def window_energy(sources: Sources, times: Sequence[float],
                  gpu: Sequence[Sequence[float] | None], cpu: Sequence[Sequence[int] | None],
                  failure: str | None = None) -> tuple[float | None, str | None]:
    """Compute a window's joules from its recorded traces.

    Args:
        sources: what was read (the GPUs' method: counter in mJ or power in W).
        times: sample times, seconds.
        gpu: per sample, one value per GPU (mJ counter or W), or None for a failed read.
        cpu: per sample, one µJ counter value per package, or None.
        failure: the first read failure, if any.

    Returns:
        ``(joules, None)`` or ``(None, reason)``.
    """
    if failure is not None:
        return None, failure
    total = 0.0
    try:
        if sources.gpus is not None:
            for g in range(len(sources.gpus.handles)):
                trace = [row[g] if row is not None else None for row in gpu]
                if sources.gpus.counter:
                    total += counter_energy(trace, None) / 1000.0  # mJ -> J
                else:
                    total += integrate_power(times, trace)
        if sources.rapl is not None:
            for p, max_range in enumerate(sources.rapl.max_ranges_uj):
                trace = [row[p] if row is not None else None for row in cpu]
                total += counter_energy(trace, max_range) / 1e6  # µJ -> J
    except ValueError as exc:
        return None, f"inconsistent energy trace: {exc}"
    return total, None


# --------------------------------------------------------------------------- the monitor


@dataclass
class _ModelEnergy:
    sources: Sources
    batches: int = 0
    measured: int = 0
    joules: float = 0.0
    failed: int = 0
    last_failure: str | None = None
    min_rate_hz: float | None = None


class EnergyMonitor:
    """Energy of each model's generation batches in this process.

    Args:
        powercap_root: the powercap sysfs directory (RAPL).
        interval_s: sampling interval, seconds (<= 0.1 keeps power sampling at >= 10 Hz).
        clock: monotonic clock, seconds.
        gpu_opener: ``device -> NvmlGpus`` (default :func:`open_gpus`).
    """

    def __init__(self, powercap_root: Path = POWERCAP_ROOT,
                 interval_s: float = SAMPLE_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic,
                 gpu_opener: Callable[[str], NvmlGpus] = open_gpus) -> None:
        self.powercap_root = powercap_root
        self.interval_s = interval_s
        self.clock = clock
        self.gpu_opener = gpu_opener
        self._models: dict[str, _ModelEnergy] = {}
        self._rapl: RaplPackages | EnergyUnavailable | None = None

    def _rapl_packages(self) -> RaplPackages:
        if self._rapl is None:
            try:
                self._rapl = RaplPackages.open(self.powercap_root)
            except EnergyUnavailable as exc:
                self._rapl = exc
        if isinstance(self._rapl, EnergyUnavailable):
            raise self._rapl
        return self._rapl

    def _decide(self, backend: str, device: str) -> Sources:
        if backend == "openai":
            return Sources(reason="remote server: the energy is spent on the server, which "
                                  "local counters do not measure")
        if backend == "scripted":
            return Sources(reason="scripted backend: completions come from a rules file, "
                                  "nothing is computed")
        if backend != "transformers":
            return Sources(reason=f"backend {backend!r}: no energy source known")
        notes = ["counts the whole device: other processes on it during a batch are included"]
        if device.startswith("cuda") or device == "auto":
            try:
                gpus = self.gpu_opener(device)
            except EnergyUnavailable as exc:
                return Sources(reason=f"GPU model on {device}: {exc}")
            try:
                rapl: RaplPackages | None = self._rapl_packages()
            except EnergyUnavailable as exc:
                rapl = None
                notes.append(f"GPU energy only (CPU package not included: {exc})")
            return Sources(gpus=gpus, rapl=rapl, notes=notes)
        if device == "cpu":
            try:
                return Sources(rapl=self._rapl_packages(), notes=notes)
            except EnergyUnavailable as exc:
                return Sources(reason=str(exc))
        return Sources(reason=f"device {device!r}: no energy source known (NVML: NVIDIA GPUs; "
                              "RAPL: x86 CPUs)")

    def start(self, model_id: str, backend: str, device: str) -> EnergyWindow | None:
        """Open a window for one batch of ``model_id`` (None when its energy is unavailable).

        Args:
            model_id: the model.
            backend: its backend name (``transformers``, ``openai``, ``scripted``).
            device: where it runs (``cpu``, ``cuda:N``, ``auto``, a URL).

        Returns:
            The open window, or None (the reason is in :meth:`status`, logged once).
        """
        entry = self._models.get(model_id)
        if entry is None:
            sources = self._decide(backend, device)
            entry = self._models[model_id] = _ModelEnergy(sources)
            if sources.reason:
                log.info("model %s: energy not measured: %s", model_id, sources.reason)
        entry.batches += 1
        if entry.sources.reason:
            return None
        return EnergyWindow(entry.sources, self.interval_s, self.clock).open()

    def stop(self, model_id: str, window: EnergyWindow | None) -> float | None:
        """Close ``window`` and return the batch's joules (None when not measured)."""
        if window is None:
            return None
        joules, reason = window.close()
        entry = self._models[model_id]
        rate = window.sample_rate_hz()
        if rate is not None:
            entry.min_rate_hz = rate if entry.min_rate_hz is None else min(entry.min_rate_hz, rate)
        if joules is None:
            entry.failed += 1
            if entry.last_failure is None:
                log.warning("model %s: energy of a batch not measured: %s", model_id, reason)
            entry.last_failure = reason
            return None
        entry.measured += 1
        entry.joules += joules
        return joules

    def status(self) -> dict[str, dict[str, Any]]:
        """Return, per model, how its energy was measured or why it was not (builtins).

        Returns:
            ``{model_id: {"available", "method", "devices", "reason", "apportioned_by",
            "batches", "measured_batches", "failed_batches", "last_failure", "joules",
            "min_sample_rate_hz", "notes"}}``; ``method`` joins the sources used
            (``nvml-energy-counter``, ``nvml-power-sampling``, ``rapl``) with ``+``, or is
            None; ``reason`` says why the energy is None for every completion.
        """
        out = {}
        for model_id, entry in self._models.items():
            s = entry.sources
            methods = ([s.gpus.method] if s.gpus else []) + (["rapl"] if s.rapl else [])
            devices = (s.gpus.labels if s.gpus else []) + (s.rapl.names if s.rapl else [])
            out[model_id] = {
                "available": s.reason is None,
                "method": "+".join(methods) or None,
                "devices": list(devices),
                "reason": s.reason,
                "apportioned_by": APPORTIONED_BY,
                "batches": entry.batches,
                "measured_batches": entry.measured,
                "failed_batches": entry.failed,
                "last_failure": entry.last_failure,
                "joules": entry.joules,
                "min_sample_rate_hz": entry.min_rate_hz,
                "notes": list(s.notes),
            }
        return out

    def close(self) -> None:
        """Release NVML if this monitor initialised it."""
        for entry in self._models.values():
            if entry.sources.gpus is not None:
                try:  # one nvmlShutdown per nvmlInit (open_gpus initialised per model)
                    entry.sources.gpus.nvml.nvmlShutdown()
                except Exception:  # noqa: BLE001 - best effort at the end of the process
                    pass


def with_energy(completions: Sequence[Completion], total_j: float | None) -> list[Completion]:
    """Return ``completions`` with :attr:`Completion.energy_j` set by :func:`apportion`.

    Args:
        completions: one batch's completions, in order.
        total_j: the batch's joules, or None (then the completions are returned unchanged).
    """
    if total_j is None:
        return list(completions)
    shares = apportion(total_j, completions)
    return [dataclasses.replace(c, energy_j=e) for c, e in zip(completions, shares, strict=True)]

