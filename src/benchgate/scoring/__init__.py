"""Scoring: answer extraction, normalisation and sandboxed code execution.

Public names (relied on by benchmarks and tests):
``extract_choice``, ``extract_number``, ``split_reasoning``, ``extract_code``, the
rule-naming variants ``choice_extraction``, ``number_extraction``,
``yes_no_extraction`` and their result ``Extraction`` (from the package
:mod:`benchgate.scoring.extract`, one module per extractor) and ``run_humaneval``,
``ExecutionResult`` (from :mod:`benchgate.scoring.execute`). They are imported lazily so
that importing ``benchgate.scoring`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "extract_choice": "benchgate.scoring.extract",
    "extract_number": "benchgate.scoring.extract",
    "split_reasoning": "benchgate.scoring.extract",
    "extract_code": "benchgate.scoring.extract",
    "choice_extraction": "benchgate.scoring.extract",
    "number_extraction": "benchgate.scoring.extract",
    "yes_no_extraction": "benchgate.scoring.extract",
    "Extraction": "benchgate.scoring.extract",
    "run_humaneval": "benchgate.scoring.execute",
    "ExecutionResult": "benchgate.scoring.execute",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'benchgate.scoring' has no attribute {name!r}")
