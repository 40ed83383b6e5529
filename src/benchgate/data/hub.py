"""Which Hugging Face hub failures mean "the data is unavailable" (a skip with the fix).

:func:`benchgate.data.sources.load_hub` turns only these failures of
``datasets.load_dataset`` into :class:`~benchgate.errors.DataUnavailableError`:

* **offline**: Hugging Face's offline mode is on (``HF_HUB_OFFLINE`` /
  ``HF_DATASETS_OFFLINE``) and the dataset is not cached (``OfflineModeIsEnabled``);
* **gated**: the repository needs accepted conditions or a login (``GatedRepoError``, HTTP
  403);
* **not found**: the repository, revision or data files do not exist or are private
  (``DatasetNotFoundError``, ``RepositoryNotFoundError``, ``RevisionNotFoundError``,
  ``EntryNotFoundError``, ``DataFilesNotFoundError``, ``DisabledRepoError``, HTTP 401/404/410,
  ``FileNotFoundError``);
* **no network**: the hub cannot be reached (``ConnectionError``, ``TimeoutError``, DNS
  failures, ``OSError`` ENETUNREACH/EHOSTUNREACH/ENETDOWN/EHOSTDOWN/ETIMEDOUT,
  ``LocalEntryNotFoundError``, the network errors of ``httpx2``/``httpx``/
  ``requests``/``aiohttp``);
* **hub not answering**: the hub answered HTTP 408, 429 or 5xx after the client's retries.

Everything else (a ``TypeError`` in a loader, a ``DatasetGenerationError`` from a broken
data file, an HTTP 400 for a malformed request, a full disk) is a bug or a broken
environment, not missing data: it propagates, and pytest reports it as a collection error
with its traceback.

The whole exception chain is read (``__cause__``, else ``__context__``), because
``datasets`` re-raises hub failures as a bare ``FileNotFoundError`` or ``ConnectionError``
with the original below (``raise ... from None`` keeps it as ``__context__``). The failure
is unavailable only when every exception in the chain is one of the kinds above; one other
kind anywhere in it (an HTTP 400 under ``datasets``' "Couldn't find any data file") makes
it propagate. The label is that of the first exception in the chain that states its reason
itself (a 503 ``HfHubHTTPError`` below ``LocalEntryNotFoundError`` below a bare
``FileNotFoundError`` is "hub not answering"). Types are looked up only in modules already
imported (``sys.modules``): an exception cannot come from a library that was never loaded.
Checked against ``datasets`` 5.2 and ``huggingface_hub`` 2.4 (``httpx2``); the names of
older versions (``httpx``, ``requests``) are listed too.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterator

#: The kinds of unavailable data (the label a skip message shows).
KINDS = ("offline", "gated", "hub not answering", "no network", "not found")

# (module, class name, kind): exception types of optional libraries, by name.
_BY_NAME = (
    ("huggingface_hub.errors", "OfflineModeIsEnabled", "offline"),
    ("huggingface_hub.errors", "GatedRepoError", "gated"),
    ("huggingface_hub.errors", "RepositoryNotFoundError", "not found"),
    ("huggingface_hub.errors", "RevisionNotFoundError", "not found"),
    ("huggingface_hub.errors", "DisabledRepoError", "not found"),
    ("huggingface_hub.errors", "LocalEntryNotFoundError", "no network"),
    ("huggingface_hub.errors", "EntryNotFoundError", "not found"),
    ("datasets.exceptions", "DatasetNotFoundError", "not found"),
    ("datasets.exceptions", "DataFilesNotFoundError", "not found"),
    ("datasets.exceptions", "DefunctDatasetError", "not found"),
    ("datasets.data_files", "EmptyDatasetError", "not found"),
    ("httpx2", "TimeoutException", "no network"),
    ("httpx2", "NetworkError", "no network"),
    ("httpx2", "ProxyError", "no network"),
    ("httpx2", "RemoteProtocolError", "no network"),
    ("httpx", "TimeoutException", "no network"),
    ("httpx", "NetworkError", "no network"),
    ("httpx", "ProxyError", "no network"),
    ("httpx", "RemoteProtocolError", "no network"),
    ("requests.exceptions", "ConnectionError", "no network"),
    ("requests.exceptions", "Timeout", "no network"),
    ("aiohttp", "ClientConnectionError", "no network"),
    ("aiohttp", "ServerTimeoutError", "no network"),
)

# HTTP error types whose meaning is their status code (checked after _BY_NAME).
_HTTP_ERRORS = (
    ("huggingface_hub.errors", "HfHubHTTPError"),
    ("httpx2", "HTTPStatusError"),
    ("httpx", "HTTPStatusError"),
    ("requests.exceptions", "HTTPError"),
)

_BUILTIN = (
    (ConnectionError, "no network"),  # includes datasets' "Couldn't reach '<repo>' on the Hub"
    (TimeoutError, "no network"),
    (socket.gaierror, "no network"),  # DNS lookup failed
    (socket.herror, "no network"),
    (FileNotFoundError, "not found"),  # datasets' "Couldn't find any data file at ..."
)


# OSError numbers of a network that cannot be reached (socket.connect raises them as a
# plain OSError, not ConnectionError).
_NETWORK_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT}
)


def _loaded(module: str, name: str) -> type | None:
    mod = sys.modules.get(module)
    cls = getattr(mod, name, None) if mod is not None else None
    return cls if isinstance(cls, type) else None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def status_kind(status: int | None) -> str | None:
    """Classify an HTTP status code of a failed hub request.

    Args:
        status: the response's status code, or None when the error carries no response.

    Returns:
        ``"gated"`` (403), ``"not found"`` (401, 404, 410: the hub answers 401 for a
        missing repository as for a private one), ``"hub not answering"`` (408, 429, 5xx),
        or None for any other status (a malformed request is a bug).
    """
    if status == 403:
        return "gated"
    if status in (401, 404, 410):
        return "not found"
    if status is not None and (status in (408, 429) or 500 <= status <= 599):
        return "hub not answering"
    return None


def failure_kind(exc: BaseException) -> tuple[str | None, bool]:
    """Classify one exception (not its chain).

    Args:
        exc: an exception raised while loading from the hub.

    Returns:
        ``(kind, specific)``: the kind of :data:`KINDS` it reports (None when it reports
        something else, a bug) and whether it says so itself (a typed hub, ``datasets`` or
        network-library error) rather than generically (a bare ``FileNotFoundError`` or
        ``ConnectionError``, ``LocalEntryNotFoundError``, a raw HTTP status error), whose
        real reason lies further down the chain.
    """
    for module, name, kind in _BY_NAME:
        cls = _loaded(module, name)
        if cls is not None and isinstance(exc, cls):
            if kind == "not found" and "gated" in str(exc).lower():
                return "gated", True  # datasets reports a gated repository so
            return kind, name != "LocalEntryNotFoundError"
    for module, name in _HTTP_ERRORS:
        cls = _loaded(module, name)
        if cls is not None and isinstance(exc, cls):
            return status_kind(_status(exc)), module == "huggingface_hub.errors"
    for cls, kind in _BUILTIN:
        if isinstance(exc, cls):
            if kind == "no network" and "OfflineModeIsEnabled" in str(exc):
                return "offline", True  # datasets' "Couldn't reach ... (OfflineModeIsEnabled)"
            return kind, False
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return "no network", False
    return None, False


def exception_chain(exc: BaseException, limit: int = 32) -> Iterator[BaseException]:
    """Yield ``exc`` and the exceptions below it: ``__cause__``, else ``__context__``.

    Args:
        exc: the exception raised.
        limit: at most this many exceptions (guards against cycles).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < limit:
        seen.add(id(current))
        yield current
        current = current.__cause__ if current.__cause__ is not None else current.__context__


def unavailable_kind(exc: BaseException) -> str | None:
    """Decide whether a hub failure means the data is unavailable, and which kind.

    Args:
        exc: the exception ``datasets.load_dataset`` (or a test's stand-in) raised.

    Returns:
        None when any exception in the chain is not an unavailable kind (the failure must
        propagate); otherwise the kind of the first exception in the chain that states its
        reason itself (see :func:`failure_kind`), else the kind of ``exc``.
    """
    found = [failure_kind(e) for e in exception_chain(exc)]
    if not found or any(kind is None for kind, _ in found):
        return None
    return next((kind for kind, specific in found if specific), found[0][0])


def fix_for(kind: str, repo: str) -> str:
    """Return the fix a skip message gives for an unavailable ``kind`` of ``repo``.

    Every fix offers ``--data-dir`` (or ``BENCHGATE_DATA_DIR``) first: local copies laid out
    like ``shared/data`` never need the hub.
    """
    local = "pass --data-dir DIR (or set BENCHGATE_DATA_DIR) pointing at local copies"
    return {
        "offline": f"{local}, or turn Hugging Face's offline mode off (HF_HUB_OFFLINE, "
        "HF_DATASETS_OFFLINE) on a machine that reaches the hub",
        "gated": f"{local}, or accept the dataset's conditions at "
        f"https://huggingface.co/datasets/{repo} and log in (hf auth login, or HF_TOKEN)",
        "hub not answering": f"{local}, or retry when the hub answers again",
        "no network": f"{local}, or allow network access to the hub (huggingface.co)",
        "not found": f"{local}; if {repo} is private, log in (hf auth login, or HF_TOKEN); "
        "if it moved or the pinned revision is gone, the benchmark's HUB_REPO/HUB_REVISION "
        "need updating (report it)",
    }[kind]
