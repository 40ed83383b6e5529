"""Energy per response: the arithmetic on recorded counter traces, the sources, the wiring.

Traces below are recorded shapes (a RAPL counter that wraps at its max_energy_range_uj, an
NVML millijoule counter, power sampled at irregular intervals), with expected values
worked out by hand. The RAPL reader runs on a powercap tree laid out like
``/sys/class/powercap`` in a tmp dir. The real-GPU test is marked ``gpu`` and skips without
an NVIDIA GPU and nvidia-ml-py (CI has none).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchgate.config import ModelSpec
from benchgate.energy import (
    APPORTIONED_BY,
    EnergyMonitor,
    EnergyUnavailable,
    RaplPackages,
    Sources,
    apportion,
    counter_delta,
    counter_energy,
    integrate_power,
    window_energy,
    with_energy,
)
from benchgate.evaluate import BackendFactory, Evaluator, LoadedBenchmark
from benchgate.records import Completion

MAX_UJ = 262143328850  # a real package's max_energy_range_uj (2^38 µJ, rounded by the driver)


# --------------------------------------------------------------------------- counters


def test_counter_delta_plain_and_wrapped():
    assert counter_delta(1_000, 5_500, MAX_UJ) == 4_500
    # 2,000 µJ before the wrap point, 3,000 after it.
    assert counter_delta(MAX_UJ - 2_000, 3_000, MAX_UJ) == 5_000
    assert counter_delta(7, 7, None) == 0
    with pytest.raises(ValueError, match="no wrap range"):
        counter_delta(10, 5, None)  # an NVML counter never goes back
    with pytest.raises(ValueError, match="outside"):
        counter_delta(MAX_UJ + 10, 5, MAX_UJ)


def test_counter_energy_sums_a_trace_with_two_wraps():
    # A package at ~200 W read every 0.5 s for a window long enough to wrap twice: the
    # readings below (µJ) step by 100 J, except where the counter passes MAX_UJ.
    step = 100_000_000
    start = MAX_UJ - 150_000_000
    trace = [start]
    value = start
    for _ in range(5000):  # 500 kJ in all: the counter passes MAX_UJ twice
        value = (value + step) % MAX_UJ
        trace.append(value)
    assert trace.count(min(trace)) == 1
    wraps = sum(1 for a, b in zip(trace, trace[1:], strict=False) if b < a)
    assert wraps == 2
    assert counter_energy(trace, MAX_UJ) == 5000 * step
    # Read only at the ends, two wraps look like one: this is why the thread samples.
    assert counter_energy([trace[0], trace[-1]], MAX_UJ) == 5000 * step - MAX_UJ


def test_counter_energy_refuses_missing_or_too_few_readings():
    with pytest.raises(ValueError, match="missing"):
        counter_energy([100, None, 300], MAX_UJ)
    with pytest.raises(ValueError, match="two readings"):
        counter_energy([100], MAX_UJ)


# --------------------------------------------------------------------------- power


def test_integrate_power_with_irregular_intervals():
    times = [0.0, 0.05, 0.15, 0.16, 0.5, 1.0]
    watts = [100.0, 300.0, 300.0, 100.0, 100.0, 200.0]
    expected = (
        (100 + 300) / 2 * 0.05
        + (300 + 300) / 2 * 0.10
        + (300 + 100) / 2 * 0.01
        + (100 + 100) / 2 * 0.34
        + (100 + 200) / 2 * 0.50
    )
    assert integrate_power(times, watts) == pytest.approx(expected)
    assert expected == pytest.approx(10 + 30 + 2 + 34 + 75)
    # A constant load gives P * T however unevenly it was sampled.
    assert integrate_power([0, 0.013, 0.2, 0.21, 3.0], [250.0] * 5) == pytest.approx(750.0)


def test_integrate_power_refuses_bad_traces():
    with pytest.raises(ValueError, match="go back"):
        integrate_power([0.0, 0.2, 0.1], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="missing"):
        integrate_power([0.0, 0.1, 0.2], [1.0, None, 1.0])
    with pytest.raises(ValueError, match="two"):
        integrate_power([0.0], [1.0])
    with pytest.raises(ValueError, match="3 times but 2"):
        integrate_power([0.0, 0.1, 0.2], [1.0, 1.0])


# --------------------------------------------------------------------------- apportioning


def done(prompt: int, completion: int, error: str | None = None) -> Completion:
    return Completion(text="" if error else "x", finish_reason="error" if error else "stop",
                      prompt_tokens=prompt, completion_tokens=completion, error=error)


def test_apportion_by_prompt_plus_completion_tokens():
    batch = [done(100, 20), done(30, 90), done(50, 10)]  # 120, 120, 60 tokens of 300
    assert apportion(600.0, batch) == pytest.approx([240.0, 240.0, 120.0])
    assert sum(apportion(600.0, batch)) == pytest.approx(600.0)
    assert APPORTIONED_BY == "prompt+completion tokens"


def test_apportion_errors_get_none_and_keep_their_share():
    batch = [done(100, 50), done(50, 0, error="HTTP 500 after 3 retries"), done(50, 50)]
    shares = apportion(600.0, batch)  # 150 + 50 + 100 tokens
    assert shares[1] is None
    # The failed request's 100 J are not handed to the answered ones.
    assert shares[0] == pytest.approx(300.0) and shares[2] == pytest.approx(200.0)


def test_apportion_without_energy_or_tokens_is_none():
    assert apportion(None, [done(1, 1)]) == [None]
    assert apportion(10.0, [done(0, 0), done(0, 0)]) == [None, None]
    assert apportion(10.0, []) == []


def test_with_energy_sets_energy_j_and_leaves_the_rest():
    batch = [done(10, 10), done(20, 20)]
    out = with_energy(batch, 3.0)
    assert [c.energy_j for c in out] == pytest.approx([1.0, 2.0])
    assert [c.text for c in out] == ["x", "x"] and out[0].prompt_tokens == 10
    assert with_energy(batch, None) == batch


# --------------------------------------------------------------------------- windows


class Gpus:
    """Stands in for NvmlGpus's method flags only; the traces carry the numbers."""

    def __init__(self, n: int, counter: bool) -> None:
        self.handles = [object()] * n
        self.counter = counter


def test_window_energy_nvml_counter_two_gpus_and_rapl_wrap():
    sources = Sources(gpus=Gpus(2, counter=True),
                      rapl=RaplPackages([Path("e")], [MAX_UJ], ["package-0"]))
    times = [0.0, 0.05, 0.1]
    gpu_mj = [[1_000_000.0, 5_000_000.0], [1_020_000.0, 5_030_000.0], [1_050_000.0, 5_040_000.0]]
    cpu_uj = [[MAX_UJ - 1_000_000], [500_000], [4_000_000]]  # wraps between samples 1 and 2
    joules, reason = window_energy(sources, times, gpu_mj, cpu_uj)
    assert reason is None
    assert joules == pytest.approx(50.0 + 40.0 + 5.0)  # GPU0 50 J, GPU1 40 J, CPU 5 J


def test_window_energy_power_sampling_integrates():
    sources = Sources(gpus=Gpus(1, counter=False))
    times = [0.0, 0.04, 0.11, 0.2]
    watts = [[300.0], [310.0], [290.0], [300.0]]
    joules, reason = window_energy(sources, times, watts, [None] * 4)
    expected = (300 + 310) / 2 * 0.04 + (310 + 290) / 2 * 0.07 + (290 + 300) / 2 * 0.09
    assert reason is None and joules == pytest.approx(expected)


def test_window_energy_missing_counter_reading_is_none_with_the_reason():
    sources = Sources(gpus=Gpus(1, counter=True))
    joules, reason = window_energy(sources, [0, 1, 2], [[1.0], None, [3.0]], [None] * 3)
    assert joules is None and "missing" in reason
    joules, reason = window_energy(sources, [0, 1], [[1.0], [2.0]], [None] * 2,
                                   failure="NVML read failed: GPU is lost")
    assert joules is None and reason == "NVML read failed: GPU is lost"


# --------------------------------------------------------------------------- RAPL sysfs


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def powercap_tree(root: Path, energy_uj: int) -> Path:
    """A powercap tree: one package (with a core sub-domain) and a psys domain."""
    package = root / "intel-rapl:0"
    for zone, name, energy in ((package, "package-0", energy_uj),
                               (root / "intel-rapl:0:0", "core", 5),
                               (root / "intel-rapl:1", "psys", 7)):
        zone.mkdir(parents=True)
        (zone / "name").write_text(name + "\n")
        (zone / "energy_uj").write_text(f"{energy}\n")
        (zone / "max_energy_range_uj").write_text(f"{MAX_UJ}\n")
    return package / "energy_uj"


def test_rapl_reads_package_domains_only(tmp_path):
    powercap_tree(tmp_path, 123)
    rapl = RaplPackages.open(tmp_path)
    assert rapl.names == ["package-0"] and rapl.max_ranges_uj == [MAX_UJ]
    assert rapl.read() == [123]


def test_rapl_missing_and_unreadable_give_the_reason_and_fix(tmp_path, monkeypatch):
    with pytest.raises(EnergyUnavailable, match="no package domain"):
        RaplPackages.open(tmp_path / "nothing-here")
    counter = powercap_tree(tmp_path, 1)
    # Since Linux 5.10 energy_uj is mode 0400 root: reading it as a user raises EACCES. A
    # mode-0 file is still readable by root (CI runs as root), so the refusal is raised
    # where the kernel would raise it, on reading that one file.
    read_text = Path.read_text

    def refuse(self, *args, **kwargs):
        if self == counter:
            raise PermissionError(13, "Permission denied", str(self))
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(EnergyUnavailable, match=r"not readable .*CVE-2020-8694.*Fix: sudo chmod"):
        RaplPackages.open(tmp_path)
    (tmp_path / "intel-rapl:0" / "max_energy_range_uj").write_text("lots\n")
    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(EnergyUnavailable, match="cannot be read"):
        RaplPackages.open(tmp_path)


def test_monitor_measures_a_cpu_batch_across_a_wrap(tmp_path):
    counter = powercap_tree(tmp_path, MAX_UJ - 2_000_000)
    monitor = EnergyMonitor(powercap_root=tmp_path, interval_s=0.01)
    window = monitor.start("m", "transformers", "cpu")
    assert window is not None
    write_atomic(counter, "1000000\n")  # the package used 3 J, passing the wrap point
    joules = monitor.stop("m", window)
    assert joules == pytest.approx(3.0)
    status = monitor.status()["m"]
    assert status["available"] and status["method"] == "rapl"
    assert status["devices"] == ["package-0"] and status["joules"] == pytest.approx(3.0)
    assert status["batches"] == status["measured_batches"] == 1
    assert status["apportioned_by"] == "prompt+completion tokens"


def test_monitor_unavailable_reasons_are_recorded_once(tmp_path):
    monitor = EnergyMonitor(powercap_root=tmp_path / "none")
    for _ in range(3):
        assert monitor.start("served", "openai", "http://127.0.0.1:8000/v1") is None
        assert monitor.start("local", "transformers", "cpu") is None
        assert monitor.start("rules", "scripted", "none") is None
    status = monitor.status()
    assert "remote server" in status["served"]["reason"]
    assert "no package domain" in status["local"]["reason"]
    assert "scripted" in status["rules"]["reason"]
    for entry in status.values():
        assert entry["available"] is False and entry["method"] is None
        assert entry["batches"] == 3 and entry["measured_batches"] == 0


def test_this_machines_rapl_measures_a_busy_cpu_or_says_why_not():
    monitor = EnergyMonitor()  # the real /sys/class/powercap
    window = monitor.start("local", "transformers", "cpu")
    status = monitor.status()["local"]
    if window is None:  # this machine (a container without RAPL, or energy_uj root-only)
        assert status["available"] is False and status["reason"].startswith("RAPL: "), status
        assert status["method"] is None
        return
    total = sum(i * i for i in range(3_000_000))  # some work for the package to do
    joules = monitor.stop("local", window)
    assert total > 0 and joules is not None and joules > 0, monitor.status()
    assert monitor.status()["local"]["method"] == "rapl"


def test_monitor_gpu_model_without_nvml_is_none_not_cpu_only(tmp_path):
    powercap_tree(tmp_path, 1)  # RAPL readable, but a CPU-only figure would hide the GPU
    def no_gpu(device):
        raise EnergyUnavailable("NVML: cannot initialise (NVML Shared Library Not Found)")
    monitor = EnergyMonitor(powercap_root=tmp_path, gpu_opener=no_gpu)
    assert monitor.start("big", "transformers", "cuda:0") is None
    reason = monitor.status()["big"]["reason"]
    assert reason.startswith("GPU model on cuda:0: NVML: cannot initialise")


def test_this_machine_without_nvml_gives_a_reason():
    from benchgate.energy import open_gpus

    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        pytest.skip("NVML works on this machine (see the gpu test)")
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - pynvml.NVMLError: no driver
        pass
    with pytest.raises(EnergyUnavailable, match="NVML"):
        open_gpus("cuda:0")


# --------------------------------------------------------------------------- the evaluator


def test_evaluator_leaves_energy_none_with_the_reason_for_a_scripted_model(tmp_path):
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.records import Item

    rules = tmp_path / "rules.yaml"
    rules.write_text('default: "The answer is 4"\n')
    spec = ModelSpec.model_validate({"id": "s", "backend": "scripted", "model": str(rules)})
    evaluator = Evaluator({"s": spec}, BackendFactory(), cache=None)
    items = [Item(id=f"q{k}", benchmark="gsm8k", input={"question": "What is 2 + 2?"},
                  reference="4") for k in range(3)]
    bench = LoadedBenchmark(spec=GSM8K(), selected=items, n_total=len(items))
    outcomes = [evaluator.outcome("s", bench, item, items) for item in items]
    assert [o.energy_j for o in outcomes] == [None, None, None]
    status = evaluator.energy_status()
    assert set(status) == {"s"} and status["s"]["batches"] == 1  # one batch, one status
    assert "scripted backend" in status["s"]["reason"]
    evaluator.close()


# --------------------------------------------------------------------------- a real GPU


def _gpu_available() -> bool:
    try:
        import pynvml
        import torch
    except ImportError:
        return False
    if not torch.cuda.is_available():
        return False
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        return False
    return True


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_available(), reason="needs an NVIDIA GPU, torch with CUDA and "
                    "nvidia-ml-py (pip install nvidia-ml-py)")
def test_real_gpu_batch_energy_is_positive_and_physical():
    import time

    import torch

    monitor = EnergyMonitor()
    window = monitor.start("gpu-model", "transformers", "cuda:0")
    assert window is not None, monitor.status()
    started = time.monotonic()
    x = torch.randn(4096, 4096, device="cuda:0")
    for _ in range(200):  # about a second of matrix products on a current card
        x = torch.tanh(x @ x)
    torch.cuda.synchronize()
    joules = monitor.stop("gpu-model", window)
    elapsed = time.monotonic() - started
    status = monitor.status()["gpu-model"]
    assert status["method"].startswith("nvml-"), status
    assert joules is not None and joules > 0, status
    assert joules < 1500.0 * elapsed + 50.0  # no single card draws 1.5 kW
    if status["method"].startswith("nvml-power-sampling"):
        assert status["min_sample_rate_hz"] >= 10.0
    completions = with_energy([Completion("a", "stop", 10, 10), Completion("b", "stop", 30, 0)],
                              joules)
    assert completions[0].energy_j == pytest.approx(joules / 2)
    monitor.close()
