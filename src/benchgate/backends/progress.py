"""How a backend reports generation progress without knowing who listens.

The evaluator wraps each ``backend.generate(...)`` call in :func:`reporting` with a
callback; a backend calls :func:`report` as completions finish (items done, tokens
generated since its last report). Outside :func:`reporting` a report goes nowhere, so a
backend used on its own (scripts, tests) needs no listener. The plugin's listener writes
per-worker progress files that the controller prints (:mod:`benchgate.plugin.progress`).

The channel is a :class:`contextvars.ContextVar`, so it follows the call into asyncio tasks
(the openai backend) and is private to the thread that set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: ``callback(items, tokens)``: deltas since the previous report.
ProgressCallback = Callable[[int, int], None]

_CURRENT: ContextVar[ProgressCallback | None] = ContextVar("benchgate_progress", default=None)


@contextmanager
def reporting(callback: ProgressCallback | None) -> Iterator[None]:
    """Route :func:`report` calls made inside the block to ``callback`` (None: nowhere)."""
    token = _CURRENT.set(callback)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def report(items: int = 0, tokens: int = 0) -> None:
    """Report ``items`` completions finished and ``tokens`` generated since the last report.

    Never raises: a failing listener must not cost an item its completion.
    """
    callback = _CURRENT.get()
    if callback is None or (items == 0 and tokens == 0):
        return
    try:
        callback(items, tokens)
    except Exception:  # noqa: BLE001 - progress is best effort
        import logging

        logging.getLogger(__name__).debug("progress listener failed", exc_info=True)
