"""Server checks at start: whole pytest sessions that must stop with exit status 4, once.

Each test writes a tiny benchgate project (pytester: a conftest loading the plugin, a
models.yaml, a two-item benchmark made in code) whose one ``backend: openai`` model has one
thing wrong, runs a whole session in a subprocess and checks: exit status 4, the message
naming models.yaml, the entry, the field, the value and the fix, given once (not per item),
and no item attempted (no results.jsonl; the stand-in server saw no chat request beyond
the check's own). The server is llama-cpp-python's, serving SmolLM2-135M (session fixture),
where it can show the case; the stand-in server where a real one cannot (an API key it
refuses, a vLLM-style 404 for an unknown model, replicas that differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchgate.backends.openai_preflight import Problem, preflight

BENCH = """\
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item


class Tiny(GSM8K):
    name = "tiny"
    version = 1

    def load(self, source):
        return [Item(id=f"q{k}", benchmark=self.name, input={"question": f"What is {k} + 2?"},
                     reference=str(k + 2)) for k in range(2)]


BENCHMARK = Tiny


def test_tiny(bench_outcome):
    check_outcome(bench_outcome)
"""

QUIET = ("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:hypothesispytest",
         "-p", "no:benchmark", "-p", "no:allure_pytest", "--no-cache", "--gate", "off")  # fmt: skip

HEAD = "model '{id}', field '{field}' ({value!r}): "


def entry(model_id: str, base_url, model: str, **extra) -> str:
    lines = [f"  - id: {model_id}", "    backend: openai", f"    base_url: {json.dumps(base_url)}",
             f"    model: {model}", "    retries: 0", "    timeout_s: 60",
             "    generation: {max_new_tokens: 8}"]
    lines += [f"    {k}: {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


class Project:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        pytester.makefile(".ini", pytest="[pytest]\ntestpaths = tests/benchmarks\n"
                          "addopts = --dist loadgroup\n")
        (self.path / "conftest.py").write_text('pytest_plugins = ("benchgate.plugin",)\n')
        (self.path / "tests" / "benchmarks").mkdir(parents=True)
        (self.path / "tests" / "benchmarks" / "test_tiny.py").write_text(BENCH)

    def run(self, *entries: str, args: tuple[str, ...] = ("-n", "0")) -> pytest.RunResult:
        (self.path / "models.yaml").write_text("models:\n" + "".join(entries))
        return self.pytester.runpytest_subprocess(*QUIET, *args, timeout=300)

    @property
    def results(self) -> Path:
        return self.path / "reports" / "results.jsonl"


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    return Project(pytester)


def refused(result: pytest.RunResult, project: Project, *lines: str) -> str:
    """Exit status 4, every expected line once, and no item attempted."""
    err = result.stderr.str()
    assert result.ret == 4, result.stdout.str()[-3000:] + err[-3000:]
    assert "ERROR: benchgate: server checks failed before any item ran" in err, err
    assert err.count("server checks failed") == 1, err  # once, not per item
    for line in lines:
        assert err.count(line) == 1, (line, err)
    assert not project.results.exists(), "an item ran"
    assert "test_tiny[" not in result.stdout.str()  # no item reported
    return err


pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("llamacpp-server")]

ALIAS = "smollm2-135m-q4_1"  # what fixtures/servers/llamacpp_server.py serves


# --------------------------------------------------------------------------- real server


def test_a_dead_server_stops_the_session_once(project, llamacpp):
    url = f"http://127.0.0.1:{llamacpp.free_port()}/v1"
    result = project.run(entry("served", url, ALIAS))
    err = refused(result, project, HEAD.format(id="served", field="base_url", value=url))
    assert f"no server answers at {url} (GET /models: ConnectError" in err
    assert "Fix: start the server (or wait until it has loaded the model), check host" in err
    assert str(project.path / "models.yaml") in err


def test_a_dead_server_under_xdist_stops_before_any_item(project, llamacpp):
    url = f"http://127.0.0.1:{llamacpp.free_port()}/v1"
    result = project.run(entry("served", url, ALIAS), args=("-n", "2"))
    err = refused(result, project, HEAD.format(id="served", field="base_url", value=url))
    assert "no server answers" in err


def test_base_url_without_v1_says_add_v1(project, llama_server):
    url = llama_server.base_url.removesuffix("/v1")
    result = project.run(entry("served", url, ALIAS))
    err = refused(result, project, HEAD.format(id="served", field="base_url", value=url))
    assert f"GET {url}/models answers HTTP 404" in err
    assert f"Fix: add /v1: base_url: {url}/v1" in err


def test_the_chat_endpoint_given_as_base_url_names_the_root(project, llama_server):
    url = llama_server.base_url + "/chat/completions"
    result = project.run(entry("served", url, ALIAS))
    err = refused(result, project, HEAD.format(id="served", field="base_url", value=url))
    assert f"Fix: base_url: {llama_server.base_url}" in err


def test_an_unset_api_key_variable(project, llama_server, monkeypatch):
    monkeypatch.delenv("BENCHGATE_TEST_NO_SUCH_KEY", raising=False)
    result = project.run(entry("served", llama_server.base_url, ALIAS,
                               api_key_env="BENCHGATE_TEST_NO_SUCH_KEY"))
    err = refused(result, project, HEAD.format(id="served", field="api_key_env",
                                               value="BENCHGATE_TEST_NO_SUCH_KEY"))
    assert "environment variable BENCHGATE_TEST_NO_SUCH_KEY is not set" in err
    assert "Fix: export BENCHGATE_TEST_NO_SUCH_KEY=" in err


def test_an_unset_url_variable(project, monkeypatch):
    monkeypatch.delenv("BENCHGATE_TEST_NO_SUCH_URL", raising=False)
    result = project.run(entry("served", "${BENCHGATE_TEST_NO_SUCH_URL}", ALIAS))
    err = refused(result, project, HEAD.format(id="served", field="base_url",
                                               value="${BENCHGATE_TEST_NO_SUCH_URL}"))
    assert "environment variable BENCHGATE_TEST_NO_SUCH_URL is not set" in err


def test_a_model_name_the_server_does_not_list_is_refused_unless_an_alias(project, llama_server):
    # llama-cpp-python answers under any name: without the check this would run and pass
    # with SmolLM2's answers labelled gpt-4o.
    result = project.run(entry("served", llama_server.base_url, "gpt-4o"))
    err = refused(result, project, HEAD.format(id="served", field="model", value="gpt-4o"))
    assert f"lists only {ALIAS!r}" in err
    assert f"Fix: set model: {ALIAS}, or add model_alias_ok: true" in err
    # The entry says the alias is intended: the session runs every item.
    result = project.run(entry("served", llama_server.base_url, "gpt-4o", model_alias_ok=True))
    assert result.ret in (0, 1), result.stdout.str()[-3000:]
    assert "server checks failed" not in result.stderr.str()
    rows = [json.loads(line) for line in project.results.read_text().splitlines()]
    assert len(rows) == 2 and all(r["status"] != "error" for r in rows), rows


def test_every_problem_of_every_model_in_one_message(project, llama_server, llamacpp,
                                                     monkeypatch):
    dead = f"http://127.0.0.1:{llamacpp.free_port()}/v1"
    monkeypatch.delenv("BENCHGATE_TEST_NO_SUCH_KEY", raising=False)
    result = project.run(
        entry("first", dead, ALIAS),
        entry("second", llama_server.base_url, "wrong-name"),
        entry("third", llama_server.base_url, ALIAS, api_key_env="BENCHGATE_TEST_NO_SUCH_KEY"),
        entry("fine", llama_server.base_url, ALIAS),
    )
    err = refused(result, project,
                  HEAD.format(id="first", field="base_url", value=dead),
                  HEAD.format(id="second", field="model", value="wrong-name"),
                  HEAD.format(id="third", field="api_key_env", value="BENCHGATE_TEST_NO_SUCH_KEY"))
    assert "(3 problem(s))" in err and "model 'fine'" not in err


def test_only_models_this_session_runs_are_checked(project, llama_server, llamacpp):
    dead = f"http://127.0.0.1:{llamacpp.free_port()}/v1"
    entries = (entry("dead", dead, ALIAS), entry("fine", llama_server.base_url, ALIAS))
    # --models leaves the dead server out: the session runs.
    result = project.run(*entries, args=("-n", "0", "--models", "fine"))
    assert result.ret in (0, 1) and "server checks" not in result.stderr.str()
    assert len(project.results.read_text().splitlines()) == 2
    # -k deselects the dead model's items: not checked either.
    project.results.unlink()
    result = project.run(*entries, args=("-n", "0", "-k", "fine"))
    assert result.ret in (0, 1) and "server checks" not in result.stderr.str()


def test_sessions_without_benchmark_items_probe_nothing(project, llamacpp):
    dead = f"http://127.0.0.1:{llamacpp.free_port()}/v1"
    (project.path / "tests" / "test_own.py").write_text("def test_own():\n    assert True\n")
    result = project.run(entry("dead", dead, ALIAS), args=("-n", "0", "tests/test_own.py"))
    assert result.ret == 0, result.stderr.str()
    result = project.run(entry("dead", dead, ALIAS), args=("-n", "0", "--collect-only"))
    assert result.ret == 0, result.stderr.str()
    assert "server checks" not in result.stderr.str()


# --------------------------------------------------------------------------- stand-in


def test_a_key_the_server_refuses(project, standin, monkeypatch):
    server = standin("ok", "--require-key", env={**_env(), "STANDIN_EXPECTED_KEY": "right-key"})
    monkeypatch.setenv("BENCHGATE_TEST_KEY", "wrong-key")
    result = project.run(entry("served", server.base_url, "standin-model",
                               api_key_env="BENCHGATE_TEST_KEY"))
    err = refused(result, project,
                  HEAD.format(id="served", field="api_key_env", value="BENCHGATE_TEST_KEY"))
    assert "answers HTTP 401: the server refuses the key in BENCHGATE_TEST_KEY" in err
    assert "wrong-key" not in err + result.stdout.str()  # the key itself never shows
    assert server.stats()["chat"] == []


def test_a_server_that_wants_a_key_when_none_is_given(project, standin):
    server = standin("ok", "--require-key", env={**_env(), "STANDIN_EXPECTED_KEY": "k"})
    result = project.run(entry("served", server.base_url, "standin-model"))
    err = refused(result, project, HEAD.format(id="served", field="api_key_env", value=""))
    assert "the server wants an API key" in err and "add api_key_env: NAME" in err


def test_a_vllm_style_404_for_an_alias_the_server_does_not_route(project, standin):
    server = standin("ok", "--served", "org/model-a,org/model-b", "--strict-model")
    result = project.run(entry("served", server.base_url, "model-c", model_alias_ok=True))
    err = refused(result, project, HEAD.format(id="served", field="model", value="model-c"))
    assert "/chat/completions (one token) answers HTTP 404" in err
    assert "The model `model-c` does not exist." in err
    assert len(server.stats()["chat"]) == 1  # the check's one-token request, no item


def test_a_multi_model_server_that_does_not_list_the_name(project, standin):
    server = standin("ok", "--served", "org/model-a,org/model-b")
    result = project.run(entry("served", server.base_url, "org/model-c"))
    err = refused(result, project, HEAD.format(id="served", field="model", value="org/model-c"))
    assert "lists ['org/model-a', 'org/model-b'], not 'org/model-c'" in err
    assert server.stats()["chat"] == []


def test_replicas_that_serve_different_models(project, standin):
    first = standin("ok", "--max-model-len", "4096")
    second = standin("ok", "--max-model-len", "8192")
    urls = [first.base_url, second.base_url]
    result = project.run(entry("served", urls, "standin-model"))
    err = refused(result, project, HEAD.format(id="served", field="base_url",
                                               value=", ".join(urls)))
    assert "the replicas serve different models" in err and "max_model_len" in err


def test_preflight_is_silent_for_a_healthy_server_and_other_backends(standin, make_spec):
    server = standin("ok")
    assert preflight(make_spec(server.base_url)) == []
    assert preflight(make_spec([server.base_url, standin("ok").base_url])) == []
    scripted = make_spec(server.base_url).model_copy(update={"backend": "scripted"})
    assert preflight(scripted) == []
    problem = Problem("m", "model", "x", "it is wrong", "fix it")
    assert problem.message("models.yaml") == (
        "models.yaml: model 'm', field 'model' ('x'): it is wrong. Fix: fix it"
    )


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
