"""Runs for the reporters' tests, built with the gate's own build_run from planted run logs.

``make_run()`` gives a two-model run (baseline ``base``, candidate ``cand``) over five
benchmarks with known flips: gsm8k regresses (b=12, c=1), mmlu is unchanged within noise,
ceval has CJK prompts and completions, dialogsum is graded (ROUGE-L scores), legalqa is a
stand-in, finqa's data is unavailable. ``make_run(models=3)`` adds a second candidate for
the multi-model tables. Nothing here computes a statistic: build_run does.
"""

from __future__ import annotations

from benchgate.gate import BenchmarkPlan, GateSettings, Plan, Side, build_run
from benchgate.records import Outcome
from benchgate.reporting.runlog import RunLog

CATEGORIES = {"gsm8k": "math", "mmlu": "knowledge", "ceval": "knowledge",
              "dialogsum": "summarization", "legalqa": "knowledge"}
SIZES = {"gsm8k": 40, "mmlu": 40, "ceval": 30, "dialogsum": 20, "legalqa": 20}
CAPS = {"gsm8k": 256, "mmlu": 16, "ceval": 16, "dialogsum": 128, "legalqa": 16}


def _status(model: str, bench: str, k: int) -> str:
    """Which items each model gets right (the plan of flips)."""
    if bench == "gsm8k":
        if model == "base":
            return "correct" if k >= 10 else "incorrect"  # 30/40
        if model == "cand":
            if k == 0:
                return "correct"  # one improvement
            if 10 <= k < 16:
                return "no_answer"  # 6 format-failure regressions
            if 16 <= k < 22:
                return "incorrect"  # 6 wrong-answer regressions
            return "correct" if k >= 10 else "incorrect"
        return "correct" if k >= 8 else "incorrect"
    if bench == "mmlu":
        if model == "base":
            return "correct" if k % 4 else "incorrect"
        if model == "cand":
            return "correct" if (k % 4 or k in (4, 8, 12)) and k not in (1, 2) else "incorrect"
        return "correct" if k % 3 else "incorrect"
    if bench == "ceval":
        if model == "base":
            return "correct" if k % 3 else "incorrect"
        if model == "cand":
            return "correct" if (k % 3 or k in (3, 6)) and k not in (1, 2, 4) else "incorrect"
        return "correct" if k % 2 else "incorrect"
    if bench == "legalqa":
        if model == "cand" and k == 3:
            return "error"
        return "correct" if k % 2 else "incorrect"
    # dialogsum: graded; status from the 0.30 threshold
    return "correct" if _score(model, k) >= 0.30 else "incorrect"


def _score(model: str, k: int) -> float:
    base = 0.2 + 0.02 * k
    return round(base - (0.08 if model == "cand" else 0.0) + (0.03 if model == "cand2" else 0.0), 3)


def _outcome(model: str, bench: str, k: int) -> Outcome:
    status = _status(model, bench, k)
    item = f"{bench[:2]}{k:03d}"
    cjk = bench == "ceval"
    prompt = (f"问题 {k}：下列哪一项是正确的？ A. 甲 B. 乙 C. 丙 D. 丁" if cjk
              else f"[{bench}-{k:03d}] What is {k} + 2?")
    if status == "correct":
        extracted = "A" if bench in ("mmlu", "ceval", "legalqa") else str(k + 2)
    elif status == "incorrect":
        extracted = "B" if bench in ("mmlu", "ceval", "legalqa") else str(k + 3)
    else:
        extracted = None
    reference = "A" if bench in ("mmlu", "ceval", "legalqa") else str(k + 2)
    if cjk:
        completion = f"答案是 {extracted}。" if extracted else "我不确定。"
    elif status == "no_answer":
        completion = "Let me think step by step. First we" + " and then" * 40
    else:
        completion = f"Let me think. The answer is {extracted}"
    truncated = status == "no_answer" and bench == "gsm8k"
    tokens = CAPS[bench] if truncated else 8 + (k * 7) % 50 + (30 if model == "cand" else 0)
    return Outcome(
        model=model, benchmark=bench, benchmark_version=1, dataset_hash=f"h-{bench}",
        item_id=item, subject="even" if k % 2 == 0 else "odd", status=status,
        extracted=extracted, reference=reference,
        score=_score(model, k) if bench == "dialogsum" else None,
        prompt=prompt, completion=completion,
        finish_reason="error" if status == "error" else ("length" if truncated else "stop"),
        prompt_tokens=40, completion_tokens=0 if status == "error" else min(tokens, CAPS[bench]),
        latency_s=0.5 + 0.01 * k, batch_wall_s=12.0,
        error="HTTP 500 after 3 retries" if status == "error" else None,
        extraction_rule=None if status == "error" else ("marker" if extracted else "last-number"),
        no_answer_kind=("truncated" if truncated else "format") if status == "no_answer" else None,
        peak_memory_mb=512.0,
        nodeid=f"tests/benchmarks/test_{bench}.py::test_{bench}[{model}-{item}]",
    )


def make_log(models: int = 2, settings: GateSettings | None = None,
             session: dict | None = None) -> RunLog:
    """The planted run log (``models`` = 2 or 3)."""
    ids = ["base", "cand", "cand2"][:models]
    roles = {"base": "baseline", "cand": "candidate", "cand2": "candidate"}
    plan = Plan(
        models=[(m, roles[m]) for m in ids],
        gating=[(Side("base"), Side(m)) for m in ids[1:]],
        collected=True,
    )
    outcomes = []
    for bench, n in SIZES.items():
        plan.benchmarks[bench] = BenchmarkPlan(
            name=bench, version=1, dataset_hash=f"h-{bench}",
            items=[f"{bench[:2]}{k:03d}" for k in range(n)], n_total=n,
            graded=bench == "dialogsum", category=CATEGORIES[bench],
            stand_in="an MMLU subset (professional_law) stands in for the paper's LegalQA"
            if bench == "legalqa" else None,
            token_caps={m: CAPS[bench] for m in ids},
            module=f"tests/benchmarks/test_{bench}.py",
        )
        for m in ids:
            outcomes += [_outcome(m, bench, k) for k in range(n)]
    plan.benchmarks["finqa"] = BenchmarkPlan(
        name="finqa", status="unavailable", category="math",
        reason="no local file finqa/test.json; fix: download dataset/test.json from the FinQA "
        "repository into --data-dir/finqa/",
    )
    manifest = {
        "schema_version": 2,
        "run": {"id": "20260101T000000Z-abc123", "started": "2026-01-01T00:00:00+00:00",
                "finished": "2026-01-01T00:10:00+00:00",
                "git": {"commit": "0123456789abcdef", "dirty": False}, "host": "ci",
                "python": "3.11.2", "packages": {"pytest": "9.1"},
                "hardware": {"cpu": "test cpu", "cpu_count": 2, "memory_gb": 8, "gpus": []},
                "options": {"limit": None}},
        "models": [{"id": m, "backend": "scripted", "model": f"{m}.yaml", "dtype": "float32",
                    "role": roles[m], "backend_identity": {"script": "abc"}} for m in ids],
        "settings": (settings or GateSettings()).to_dict(),
        "plan": plan.to_dict(),
        "session": session or {
            "pytest_exit_status": 1, "gate": "on",
            "energy": {m: {"reason": "no NVML device and RAPL not readable"} for m in ids},
        },
        "benchmarks": {},
        "stored_baseline": None,
    }
    return RunLog(path=None, manifest=manifest, outcomes=outcomes)


def make_run(models: int = 2, **kwargs):
    """The planted run, computed by :func:`benchgate.gate.build_run`."""
    return build_run(make_log(models, **kwargs))
