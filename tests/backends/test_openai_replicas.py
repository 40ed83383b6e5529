"""Replicas of one model (several ``base_url``): spreading, failover, re-admission.

* :class:`ReplicaSet` rules on their own (least outstanding, capacity, taking out, probes).
* Two real llama-cpp-python servers on loopback serving SmolLM2-135M: requests spread over
  both; one SIGKILLed in the middle of a batch: every request answered exactly once, the
  kill detected (the replica taken out with the connection error), the survivor serving the
  rest; the cache identity the same as one server's.
* Stand-in servers for what a healthy llama.cpp server never does: a replica that answers
  HTTP 500 to everything (taken out after ``retries + 1`` in a row), all replicas gone
  (error completions naming each), and a replica that comes back (re-admitted by a probe
  once its wait is over, on an injected clock).
"""

from __future__ import annotations

import threading
import time

import pytest

from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend
from benchgate.backends.replicas import BUSY, ReplicaSet

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ask(n: int, prefix: str = "q") -> list[Request]:
    return [
        Request.from_messages([{"role": "user", "content": f"{prefix}{i}: name a colour."}])
        for i in range(n)
    ]


# --------------------------------------------------------------------------- the rules


def test_least_outstanding_then_fewest_served_then_file_order():
    replicas = ReplicaSet(["http://a/v1", "http://b/v1", "http://c/v1"], capacity=2)
    assert replicas.choose() == "http://a/v1"  # all idle: file order
    assert replicas.choose() == "http://b/v1"  # a has one outstanding
    assert replicas.choose() == "http://c/v1"
    replicas.release("http://b/v1")
    replicas.succeeded("http://b/v1")
    assert replicas.choose() == "http://b/v1"  # b: 0 outstanding again
    replicas.release("http://c/v1")
    replicas.succeeded("http://c/v1")
    # a: 1 outstanding, 0 served; b: 1, 1; c: 0, 1 -> c (least outstanding)
    assert replicas.choose() == "http://c/v1"
    assert replicas.choose() == "http://a/v1"  # all at 1 outstanding: a has served fewest
    assert replicas.choose() == "http://b/v1"
    assert replicas.choose() == "http://c/v1"  # now every one is at 2 = capacity
    assert replicas.choose() == BUSY
    assert replicas.choose(exclude={"http://a/v1", "http://b/v1", "http://c/v1"}) is None


def test_unreachable_is_out_at_once_failures_after_the_limit_and_one_replica_never():
    clock = Clock()
    replicas = ReplicaSet(["http://a/v1", "http://b/v1"], fail_limit=3, readmit_after_s=30,
                          clock=clock)
    assert replicas.failed("http://a/v1", "HTTP 500: boom", unreachable=False) is False
    assert replicas.failed("http://a/v1", "HTTP 500: boom", unreachable=False) is False
    assert replicas.failed("http://a/v1", "HTTP 500: boom", unreachable=False) is True
    assert replicas.live() == ["http://b/v1"]
    assert replicas.failed("http://b/v1", "connection error: refused", unreachable=True) is True
    assert replicas.live() == []
    assert replicas.choose() is None  # nothing live ...
    assert replicas.choose(any_state=True) == "http://a/v1"  # ... but a retry may try them
    (a, b) = replicas.status()
    assert a["taken_out"] == 1 and a["reason"] == "HTTP 500: boom" and not a["up"]
    assert b["reason"] == "connection error: refused"
    single = ReplicaSet(["http://only/v1"], fail_limit=1)
    assert single.failed("http://only/v1", "refused", unreachable=True) is False
    assert single.live() == ["http://only/v1"]  # nowhere else to go: retries apply instead


def test_probes_are_claimed_once_back_off_and_readmit():
    clock = Clock()
    replicas = ReplicaSet(["http://a/v1", "http://b/v1"], readmit_after_s=10, readmit_max_s=25,
                          clock=clock)
    replicas.failed("http://a/v1", "refused", unreachable=True)
    assert replicas.due_probes() == []  # not before its wait is over
    clock.now += 10
    assert replicas.due_probes() == ["http://a/v1"]
    assert replicas.due_probes() == []  # claimed: nobody else probes it meanwhile
    replicas.probe_done("http://a/v1", False, "refused again")
    clock.now += 19.9
    assert replicas.due_probes() == []  # the wait doubled to 20 s
    clock.now += 0.1
    assert replicas.due_probes() == ["http://a/v1"]
    replicas.probe_done("http://a/v1", False, "refused again")
    clock.now += 24.9
    assert replicas.due_probes() == []  # 40 s capped at readmit_max_s = 25 s
    clock.now += 0.1
    assert replicas.due_probes() == ["http://a/v1"]
    replicas.probe_done("http://a/v1", None)  # cancelled: due again at once
    assert replicas.due_probes() == ["http://a/v1"]
    replicas.probe_done("http://a/v1", True)
    assert replicas.live() == ["http://a/v1", "http://b/v1"]
    events = [h["event"] for h in replicas.status()[0]["history"]]
    assert events == ["taken out", "probe failed", "probe failed", "re-admitted"]


def test_a_replica_that_answers_while_out_is_readmitted():
    replicas = ReplicaSet(["http://a/v1", "http://b/v1"])
    replicas.failed("http://a/v1", "timeout", unreachable=True)
    replicas.succeeded("http://a/v1")  # a request it was still serving came back fine
    assert replicas.live() == ["http://a/v1", "http://b/v1"]


def test_set_rejects_bad_arguments():
    with pytest.raises(ValueError):
        ReplicaSet([])
    with pytest.raises(ValueError):
        ReplicaSet(["http://a/v1", "http://a/v1"])
    with pytest.raises(ValueError):
        ReplicaSet(["http://a/v1"], capacity=0)


# --------------------------------------------------------------------------- real servers


@pytest.fixture(scope="module")
def two_servers(llamacpp):
    """Two llama-cpp-python servers (SmolLM2-135M Q4_1) on loopback, for the module."""
    servers = [llamacpp.LlamaCppServer(), llamacpp.LlamaCppServer()]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def llama_spec(make_spec, llamacpp, urls, **overrides):
    return make_spec(urls, model=llamacpp.MODEL_ALIAS, max_concurrency=1, timeout_s=120,
                     generation={"max_new_tokens": 4, "temperature": 0.0}, **overrides)


@pytest.mark.slow
@pytest.mark.xdist_group("llamacpp-server")
def test_requests_spread_over_two_real_servers_and_identity_is_the_models(
    two_servers, make_spec, llamacpp
):
    urls = [s.base_url for s in two_servers]
    backend = OpenAIBackend(llama_spec(make_spec, llamacpp, urls), **FAST)
    completions = backend.generate(ask(4))
    assert all(c.error is None and c.text.strip() for c in completions), completions
    answered_by = [c.replica for c in completions]
    assert set(answered_by) == set(urls)  # both took requests
    served = {r["url"]: r["served"] for r in backend.replica_status()}
    assert served == {u: answered_by.count(u) for u in urls} and sum(served.values()) == 4
    # The cache identity is the model's: the same key as either server on its own.
    info = backend.info()
    assert info.device == ", ".join(urls)
    for url in urls:
        alone = OpenAIBackend(llama_spec(make_spec, llamacpp, url), **FAST)
        assert alone.info().key() == info.key()


@pytest.mark.slow
@pytest.mark.xdist_group("llamacpp-server")
def test_a_server_killed_mid_batch_every_request_answered_once_by_the_survivor(
    make_spec, llamacpp
):
    doomed, survivor = llamacpp.LlamaCppServer(), llamacpp.LlamaCppServer()
    try:
        doomed.start()
        survivor.start()
        backend = OpenAIBackend(
            llama_spec(make_spec, llamacpp, [doomed.base_url, survivor.base_url]), **FAST
        )
        requests = ask(6, prefix="kill")
        result: dict = {}
        worker = threading.Thread(target=lambda: result.update(out=backend.generate(requests)))
        worker.start()
        # Kill the first replica as soon as it has answered one request (bounded polling on
        # the backend's own counters; the batch is then still running on both).
        deadline = time.monotonic() + 120
        while backend.replica_status()[0]["served"] < 1:
            assert worker.is_alive() and time.monotonic() < deadline, "no answer from replica 1"
            time.sleep(0.02)
        doomed.kill()
        served_at_kill = backend.replica_status()[0]["served"]
        worker.join(timeout=300)
        assert not worker.is_alive()
        completions = result["out"]
        assert len(completions) == len(requests)
        for c in completions:  # every request answered, none lost to the kill
            assert c.error is None and c.finish_reason in ("stop", "length") and c.text.strip(), c
        # The next batch goes to the survivor only. (Were the batch above over before the kill
        # took effect, this batch's first request would find the dead one and take it out.)
        later = backend.generate(ask(2, prefix="after"))
        assert [c.replica for c in later] == [survivor.base_url] * 2
        assert all(c.error is None for c in later)
        (dead, alive) = backend.replica_status()
        # The kill was detected: the replica is out, with the connection error as the reason.
        assert dead["up"] is False and dead["taken_out"] == 1
        assert dead["reason"].startswith("connection error"), dead["reason"]
        assert alive["up"] is True and alive["taken_out"] == 0
        # Nothing duplicated: each request has one completion from one replica, and the
        # servers' answer counts add up to the number of requests.
        by = [c.replica for c in completions]
        assert by.count(doomed.base_url) == dead["served"] <= served_at_kill + 1
        assert by.count(survivor.base_url) + len(later) == alive["served"]
        assert dead["served"] + alive["served"] == len(requests) + len(later)
    finally:
        doomed.stop()
        survivor.stop()


# --------------------------------------------------------------------------- stand-ins


def test_max_concurrency_holds_per_replica_and_the_idle_one_gets_the_next(standin, make_spec):
    servers = [standin("slow", "--delay", "0.3", "--fail-count", "-1") for _ in range(2)]
    backend = OpenAIBackend(make_spec([s.base_url for s in servers], max_concurrency=2), **FAST)
    completions = backend.generate(ask(12))
    assert all(c.error is None for c in completions)
    for server, status in zip(servers, backend.replica_status(), strict=True):
        stats = server.stats()
        assert stats["max_in_flight"] == 2  # busy to its limit, never past it
        assert len(stats["chat"]) == status["served"] >= 4
    assert sum(r["served"] for r in backend.replica_status()) == 12


def test_one_url_records_no_replica(standin, make_spec):
    server = standin("ok")
    (completion,) = OpenAIBackend(make_spec(server.base_url), **FAST).generate(ask(1))
    assert completion.error is None and completion.replica is None


def test_a_replica_answering_500_is_taken_out_after_retries_plus_one(standin, make_spec):
    sick = standin("status500", "--fail-count", "-1")
    well = standin("ok")
    spec = make_spec([sick.base_url, well.base_url], retries=2, max_concurrency=1)
    backend = OpenAIBackend(spec, **FAST)
    completions = backend.generate(ask(8))
    assert all(c.error is None for c in completions), [c.error for c in completions]
    assert all(c.replica == well.base_url for c in completions)
    (bad, good) = backend.replica_status()
    assert bad["up"] is False and bad["reason"].startswith("HTTP 500")
    assert len(sick.stats()["chat"]) == spec.retries + 1  # then it got no more requests
    assert good["served"] == 8 and len(well.stats()["chat"]) == 8


def test_every_replica_gone_gives_error_completions_naming_each(standin, make_spec):
    first, second = standin("ok"), standin("ok")
    urls = [first.base_url, second.base_url]
    first.kill()
    second.kill()
    backend = OpenAIBackend(make_spec(urls, retries=1), **FAST)
    completions = backend.generate(ask(3))
    for c in completions:
        assert c.finish_reason == "error" and c.text == "" and c.replica is None
        assert c.error.startswith("connection error after 1 retries: no replica answered ("), c
        assert urls[0] in c.error and urls[1] in c.error
    assert [r["up"] for r in backend.replica_status()] == [False, False]


def test_a_replica_that_comes_back_is_readmitted_after_its_wait(standin, make_spec):
    clock = Clock()
    flaky, steady = standin("ok"), standin("ok")
    port = flaky.base_url.split(":")[2].split("/")[0]
    backend = OpenAIBackend(
        make_spec([flaky.base_url, steady.base_url], max_concurrency=2),
        readmit_after_s=30, clock=clock, **FAST,
    )
    flaky.kill()
    first = backend.generate(ask(4))
    assert [c.replica for c in first] == [steady.base_url] * 4
    assert all(c.error is None for c in first)
    back = standin("ok", "--port", port)  # the same URL answers again
    assert back.base_url == flaky.base_url
    clock.now += 29
    second = backend.generate(ask(4))
    assert {c.replica for c in second} == {steady.base_url}  # still out: its wait is not over
    assert back.stats()["models_calls"] == 0  # and it was not even probed
    clock.now += 1
    backend.generate(ask(1))  # due: this batch probes it (GET /models) and re-admits it
    assert back.stats()["models_calls"] == 1
    assert backend.replica_status()[0]["up"] is True
    third = backend.generate(ask(4))
    assert {c.replica for c in third} == {back.base_url, steady.base_url}
    assert all(c.error is None for c in third)
