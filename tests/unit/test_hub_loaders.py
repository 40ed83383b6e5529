"""The hub paths through the real ``datasets.load_dataset``, offline, and hub failures.

The stand-in folders under fixtures/hub/ are laid out as the hub repositories are (README
``configs:`` + data files), so ``load_dataset`` reads them exactly as it would read
``openai/gsm8k`` / ``cais/mmlu``; only the repository id is mapped to the local folder.

Hub failures (issue 10): only offline / gated / not found / no network / hub not answering
become DataUnavailableError (a skip with the fix); everything else propagates. Tested
through the real ``load_dataset`` (offline mode; a loopback HTTP server answering as
huggingface.co answers a missing, gated or disabled repository, a missing revision or a
malformed request; a broken data file), through stand-in loaders raising each kind, and
through whole pytest sessions.
"""

from __future__ import annotations

import errno
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from benchgate.data.sources import DataSource
from benchgate.errors import DataUnavailableError

HUB = Path(__file__).resolve().parents[2] / "fixtures" / "hub"
datasets = pytest.importorskip("datasets")


@pytest.fixture
def local_hub(tmp_path):
    calls = []

    def load(repo, revision=None, **kwargs):
        calls.append((repo, revision, kwargs.get("name"), kwargs.get("split")))
        return datasets.load_dataset(
            str(HUB / repo.replace("/", "__")), cache_dir=str(tmp_path), **kwargs
        )

    return DataSource(data_dir=None, hub_loader=load), calls


def test_gsm8k_hub_path(local_hub):
    from benchgate.benchmarks.gsm8k import HUB_REPO, HUB_REVISION, load_gsm8k

    source, calls = local_hub
    items = load_gsm8k(source)
    assert calls == [(HUB_REPO, HUB_REVISION, "main", "test")]
    assert [i.reference for i in items] == ["12", "1500", "-3"]
    assert len({i.id for i in items}) == 3


def test_mmlu_hub_path_with_dev_exemplars_and_duplicate_ids(local_hub):
    from benchgate.benchmarks.mmlu import HUB_REPO, HUB_REVISION, MMLU

    source, calls = local_hub
    bench = MMLU(shots=1)
    items = bench.load(source)
    assert {c[3] for c in calls} == {"test", "dev"} and all(
        c[:3] == (HUB_REPO, HUB_REVISION, "all") for c in calls
    )
    assert [i.reference for i in items] == ["B", "C", "C"]
    assert items[2].id == items[1].id + "-2"  # exact duplicate rows keep distinct, stable ids
    messages = bench.request(items[0]).message_dicts()
    assert len(messages) == 3 and messages[1]["content"] == "Answer: C"  # the astronomy dev shot


def test_unreachable_hub_is_unavailable_with_the_fix():
    from benchgate.benchmarks.gsm8k import load_gsm8k

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)")

    with pytest.raises(DataUnavailableError, match=r"--data-dir.*BENCHGATE_DATA_DIR"):
        load_gsm8k(DataSource(data_dir=None, hub_loader=offline))


# --------------------------------------------------------------------------------------
# Which hub failures skip (unavailable, with the fix) and which propagate (issue 10)
# --------------------------------------------------------------------------------------
# Only "offline / gated / not found / no network / hub not answering" become
# DataUnavailableError; anything else (a bug, a broken file, a malformed request) must
# reach pytest as itself, so the collection error shows its traceback.


class _FakeHubHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status and headers the test set, as the hub does."""

    answer: tuple[int, dict[str, str]] = (404, {})
    requests: list[str] = []

    def _reply(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        status, headers = type(self).answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _reply

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def loopback_hub(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1 standing in for huggingface.co's error answers.

    ``datasets.load_dataset`` and ``huggingface_hub`` run unchanged against it (their own
    requests, status handling and exception mapping); only the endpoint is redirected.
    Returns a function that sets the answer and loads GSM8K through ``load_hub``.
    """
    import huggingface_hub.constants

    from benchgate.benchmarks.gsm8k import load_gsm8k

    handler = type("Handler", (_FakeHubHandler,), {"requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    def load(status: int, headers: dict[str, str]):
        handler.answer = (status, headers)

        def real(repo, **kwargs):
            return datasets.load_dataset(repo, cache_dir=str(tmp_path / "datasets"), **kwargs)

        return load_gsm8k(DataSource(data_dir=None, hub_loader=real))

    yield load, handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


HUB_ANSWERS_THAT_SKIP = [
    (
        "repository not found",
        404,
        {"X-Error-Code": "RepoNotFound"},
        "not found",
        "doesn't exist on the Hub",
    ),
    (
        "missing or private (401)",
        401,
        {"X-Error-Code": "RepoNotFound"},
        "not found",
        "doesn't exist on the Hub",
    ),
    (
        "gated, not logged in",
        401,
        {"X-Error-Code": "GatedRepo"},
        "gated",
        "You must be authenticated",
    ),
    (
        "gated, conditions not accepted",
        403,
        {"X-Error-Code": "GatedRepo"},
        "gated",
        "ask for access",
    ),
    (
        "revision not found",
        404,
        {"X-Error-Code": "RevisionNotFound"},
        "not found",
        "Revision '740312add88f781978c0658806c59bc2815b9866' doesn't exist",
    ),
    (
        "repository disabled",
        403,
        {"X-Error-Message": "Access to this resource is disabled."},
        "not found",
        "Couldn't find any data file",
    ),
]


@pytest.mark.parametrize(
    "status,headers,kind,said",
    [a[1:] for a in HUB_ANSWERS_THAT_SKIP],
    ids=[a[0] for a in HUB_ANSWERS_THAT_SKIP],
)
def test_real_load_dataset_answers_that_mean_unavailable_skip_with_the_fix(
    loopback_hub, status, headers, kind, said
):
    load, handler = loopback_hub
    with pytest.raises(DataUnavailableError) as info:
        load(status, headers)
    message = str(info.value)
    assert (
        f"could not load openai/gsm8k (revision 740312add88f) from the Hugging Face hub ({kind})"
        in message
    )
    assert said in message
    assert "Fix: pass --data-dir DIR (or set BENCHGATE_DATA_DIR)" in message
    if kind == "gated":
        assert "https://huggingface.co/datasets/openai/gsm8k" in message
    assert handler.requests and handler.requests[0].startswith(
        "HEAD /datasets/openai/gsm8k/resolve/"
    )


@pytest.mark.parametrize(
    "status,name",
    [(400, "BadRequestError"), (405, "HfHubHTTPError"), (418, "HfHubHTTPError")],
)
def test_real_load_dataset_answers_that_are_not_missing_data_propagate(loopback_hub, status, name):
    """A malformed request is our bug: datasets wraps it in FileNotFoundError, but the
    chain below shows the hub's answer, so it is not a skip."""
    load, _ = loopback_hub
    with pytest.raises(FileNotFoundError) as info:
        load(status, {})
    assert not isinstance(info.value, DataUnavailableError)
    chain = []
    exc = info.value
    while exc is not None:
        chain.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    assert name in chain


def test_real_load_dataset_in_offline_mode_is_unavailable_offline(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from benchgate.benchmarks.gsm8k import load_gsm8k

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    def real(repo, **kwargs):
        return datasets.load_dataset(repo, cache_dir=str(tmp_path / "datasets"), **kwargs)

    with pytest.raises(DataUnavailableError) as info:
        load_gsm8k(DataSource(data_dir=None, hub_loader=real))
    message = str(info.value)
    assert (
        "from the Hugging Face hub (offline): ConnectionError: Couldn't reach 'openai/gsm8k'"
        in message
    )
    assert "turn Hugging Face's offline mode off (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE)" in message


def test_real_load_dataset_on_a_missing_local_folder_is_unavailable(tmp_path):
    from benchgate.benchmarks.gsm8k import load_gsm8k

    def real(repo, **kwargs):
        return datasets.load_dataset(str(tmp_path / "absent"), cache_dir=str(tmp_path), **kwargs)

    with pytest.raises(
        DataUnavailableError, match=r"\(not found\): FileNotFoundError: Couldn't find"
    ):
        load_gsm8k(DataSource(data_dir=None, hub_loader=real))


def test_real_load_dataset_on_a_broken_data_file_propagates_with_its_traceback(tmp_path):
    from benchgate.benchmarks.gsm8k import load_gsm8k

    copy = tmp_path / "openai__gsm8k"
    shutil.copytree(HUB / "openai__gsm8k", copy)
    with (copy / "main" / "test.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"question": "cut off", "answ\n')

    def real(repo, **kwargs):
        return datasets.load_dataset(str(copy), cache_dir=str(tmp_path / "cache"), **kwargs)

    with pytest.raises(datasets.exceptions.DatasetGenerationError):
        load_gsm8k(DataSource(data_dir=None, hub_loader=real))


def _http(kind, status: int):
    import httpx2

    response = httpx2.Response(status, request=httpx2.Request("HEAD", "https://huggingface.co/x"))
    return kind(f"{status} error", response=response)


def _unavailable_cases():
    import httpx2
    import huggingface_hub.errors as hub
    import requests

    offline_wrapped = ConnectionError(
        "Couldn't reach 'openai/gsm8k' on the Hub (OfflineModeIsEnabled)"
    )
    not_cached = FileNotFoundError("Dataset openai/gsm8k is not cached")
    offline_wrapped.__context__ = not_cached
    local_entry = hub.LocalEntryNotFoundError("cannot find the requested files in the local cache")
    local_entry.__cause__ = httpx2.ConnectError("[Errno 111] Connection refused")
    return [
        (
            "ConnectionError",
            ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub"),
            "no network",
        ),
        ("ConnectionRefusedError", ConnectionRefusedError(111, "Connection refused"), "no network"),
        ("TimeoutError", TimeoutError("timed out"), "no network"),
        ("socket.gaierror", socket.gaierror(-2, "Name or service not known"), "no network"),
        ("OSError ENETUNREACH", OSError(errno.ENETUNREACH, "Network is unreachable"), "no network"),
        ("OSError EHOSTUNREACH", OSError(errno.EHOSTUNREACH, "No route to host"), "no network"),
        ("httpx2.ConnectError", httpx2.ConnectError("connection refused"), "no network"),
        ("httpx2.ReadTimeout", httpx2.ReadTimeout("read timed out"), "no network"),
        ("httpx2.RemoteProtocolError", httpx2.RemoteProtocolError("server hung up"), "no network"),
        ("requests.ConnectionError", requests.ConnectionError("refused"), "no network"),
        ("requests.Timeout", requests.Timeout("timed out"), "no network"),
        ("LocalEntryNotFoundError <- ConnectError", local_entry, "no network"),
        ("OfflineModeIsEnabled", hub.OfflineModeIsEnabled("offline mode is enabled"), "offline"),
        ("datasets' offline ConnectionError", offline_wrapped, "offline"),
        ("GatedRepoError", _http(hub.GatedRepoError, 403), "gated"),
        ("RepositoryNotFoundError", _http(hub.RepositoryNotFoundError, 404), "not found"),
        ("RevisionNotFoundError", _http(hub.RevisionNotFoundError, 404), "not found"),
        ("RemoteEntryNotFoundError", _http(hub.RemoteEntryNotFoundError, 404), "not found"),
        ("DisabledRepoError", _http(hub.DisabledRepoError, 403), "not found"),
        (
            "DatasetNotFoundError",
            datasets.exceptions.DatasetNotFoundError("no such dataset"),
            "not found",
        ),
        (
            "DatasetNotFoundError (gated)",
            datasets.exceptions.DatasetNotFoundError("Dataset 'x' is a gated dataset on the Hub."),
            "gated",
        ),
        (
            "DataFilesNotFoundError",
            datasets.exceptions.DataFilesNotFoundError("no data files"),
            "not found",
        ),
        ("FileNotFoundError", FileNotFoundError("Couldn't find any data file"), "not found"),
        ("HTTP 503", _http(hub.HfHubHTTPError, 503), "hub not answering"),
        ("HTTP 502", _http(hub.HfHubHTTPError, 502), "hub not answering"),
        ("HTTP 429", _http(hub.HfHubHTTPError, 429), "hub not answering"),
    ]


def _propagating_cases():
    import httpx2
    import huggingface_hub.errors as hub

    wrapped_400 = FileNotFoundError("Couldn't find 'openai/gsm8k' on the Hugging Face Hub either")
    wrapped_400.__context__ = _http(hub.BadRequestError, 400)
    network_after_a_bug = ConnectionError("Couldn't reach the hub")
    network_after_a_bug.__context__ = KeyError("config")
    bug_from_network = TypeError("'NoneType' object is not subscriptable")
    bug_from_network.__cause__ = ConnectionError("refused")
    return [
        ("TypeError", TypeError("load() got an unexpected keyword argument 'revison'")),
        ("AttributeError", AttributeError("'NoneType' object has no attribute 'split'")),
        ("KeyError", KeyError("answer")),
        ("ValueError", ValueError("BuilderConfig 'main' not found")),
        ("NotImplementedError", NotImplementedError("streaming")),
        (
            "RuntimeError (dataset script)",
            RuntimeError("Dataset scripts are no longer supported, but found gsm8k.py"),
        ),
        (
            "DatasetGenerationError",
            datasets.exceptions.DatasetGenerationError(
                "An error occurred while generating the dataset"
            ),
        ),
        ("PermissionError", PermissionError(13, "Permission denied", "/root/.cache")),
        ("OSError ENOSPC", OSError(errno.ENOSPC, "No space left on device")),
        ("plain OSError", OSError("no network")),
        ("HTTP 400 BadRequestError", _http(hub.BadRequestError, 400)),
        ("HTTP 418", _http(hub.HfHubHTTPError, 418)),
        (
            "httpx2.HTTPStatusError 405",
            httpx2.HTTPStatusError(
                "405", request=httpx2.Request("GET", "https://x"), response=httpx2.Response(405)
            ),
        ),
        ("httpx2.UnsupportedProtocol", httpx2.UnsupportedProtocol("Request URL has no scheme")),
        ("FileNotFoundError <- HTTP 400", wrapped_400),
        ("ConnectionError after a KeyError", network_after_a_bug),
        ("TypeError from a ConnectionError", bug_from_network),
    ]


def _raising(exc):
    def load(*args, **kwargs):
        raise exc

    return DataSource(data_dir=None, hub_loader=load)


UNAVAILABLE_IDS = [c[0] for c in _unavailable_cases()]
PROPAGATING_IDS = [c[0] for c in _propagating_cases()]


@pytest.mark.parametrize("index", range(len(UNAVAILABLE_IDS)), ids=UNAVAILABLE_IDS)
def test_a_hub_loader_raising_an_unavailable_kind_is_a_skip_with_the_fix(index):
    from benchgate.benchmarks.gsm8k import load_gsm8k

    _, exc, kind = _unavailable_cases()[index]
    with pytest.raises(DataUnavailableError) as info:
        load_gsm8k(_raising(exc))
    message = str(info.value)
    assert f"from the Hugging Face hub ({kind}): {type(exc).__name__}: " in message
    assert "Fix: pass --data-dir DIR (or set BENCHGATE_DATA_DIR)" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("index", range(len(PROPAGATING_IDS)), ids=PROPAGATING_IDS)
@pytest.mark.parametrize("bench", ["gsm8k", "mmlu", "ceval", "mgsm", "legalqa", "finqa"])
def test_a_hub_loader_raising_anything_else_propagates_unchanged(index, bench):
    import importlib

    module = importlib.import_module(f"benchgate.benchmarks.{bench}")
    loader = getattr(module, "load_mmlu_hub" if bench == "mmlu" else f"load_{bench}")
    _, exc, *_ = _propagating_cases()[index]
    with pytest.raises(type(exc)) as info:
        loader(_raising(exc))
    assert info.value is exc  # the very exception, with its traceback and chain
    assert not isinstance(info.value, DataUnavailableError)


def test_own_errors_of_a_stand_in_loader_pass_through():
    from benchgate.benchmarks.gsm8k import load_gsm8k
    from benchgate.errors import DataFormatError

    for exc in (DataUnavailableError("stand-in: no such file"), DataFormatError("row 3: bad")):
        with pytest.raises(type(exc)) as info:
            load_gsm8k(_raising(exc))
        assert info.value is exc


def test_every_kind_has_a_fix_that_names_data_dir():
    from benchgate.data.hub import KINDS, fix_for

    for kind in KINDS:
        assert fix_for(kind, "o/n").startswith("pass --data-dir DIR (or set BENCHGATE_DATA_DIR)")


# --------------------------------------------------------------------------------------
# The same through a whole pytest session: a bug is a collection error with its traceback
# --------------------------------------------------------------------------------------

SESSION_BENCH = """\
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.data.sources import DataSource, load_hub
from benchgate.plugin.fixtures import check_outcome


def _hub(repo, revision=None, **kwargs):
    raise {exc}


class Hubbed(GSM8K):
    name = "hubbed"

    def load(self, source):
        return load_hub(DataSource(data_dir=None, hub_loader=_hub), "openai/gsm8k", "main")


BENCHMARK = Hubbed


def test_hubbed(bench_outcome):
    check_outcome(bench_outcome)
"""

SESSION_MODELS = """\
models:
  - id: base
    role: baseline
    backend: scripted
    model: rules.yaml
  - id: cand
    role: candidate
    backend: scripted
    model: rules.yaml
"""


def _session(pytester, exc: str):
    pytester.makefile(
        ".ini",
        pytest="[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider -ra\n",
    )
    pytester.makepyfile(conftest='pytest_plugins = ("benchgate.plugin",)\n')
    (pytester.path / "models.yaml").write_text(SESSION_MODELS)
    (pytester.path / "rules.yaml").write_text('default: "The answer is 4"\n')
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_hubbed.py").write_text(SESSION_BENCH.format(exc=exc))
    return pytester.runpytest_subprocess("-n", "0", "--no-cache")


def test_a_loader_bug_is_a_collection_error_with_its_traceback_not_a_skip(pytester):
    result = _session(pytester, "TypeError(\"unsupported operand type(s) for +: 'int' and 'str'\")")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert "ERROR collecting tests/test_hubbed.py" in out
    assert "Interrupted: 1 error during collection" in out
    assert "TypeError: unsupported operand type(s) for +: 'int' and 'str'" in out
    assert "in _hub" in out or "def _hub" in out  # the traceback reaches the loader's frame
    assert "SKIPPED" not in out


def test_no_network_in_a_session_skips_the_benchmark_once_with_the_fix(pytester):
    result = _session(pytester, "ConnectionError(\"Couldn't reach 'openai/gsm8k' on the Hub\")")
    out = result.stdout.str()
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 1, out[-3000:]
    assert (
        "hubbed: could not load openai/gsm8k (revision main) from the Hugging Face hub "
        "(no network): ConnectionError: Couldn't reach 'openai/gsm8k' on the Hub. Fix: " in skips[0]
    )
    assert "ERROR collecting" not in out
