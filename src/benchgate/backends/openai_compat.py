"""Models behind OpenAI-compatible chat-completions servers (vLLM, SGLang, TGI, llama.cpp, Ollama).

(Past 600 lines on purpose: the request path (body, retries with backoff, replica failover,
response parsing, identity probe) is one concern around the backend's private state; the
replica bookkeeping lives in :mod:`benchgate.backends.replicas`, the start checks in
:mod:`benchgate.backends.openai_preflight`.)

One :class:`OpenAIBackend` per models.yaml entry with ``backend: openai``. A call to
:meth:`OpenAIBackend.generate` sends every request of the batch concurrently (at most
``max_concurrency`` in flight per server) with :mod:`httpx`, so a server that does continuous
batching is kept busy, and returns one :class:`~benchgate.records.Completion` per request in
order.

An entry may list several ``base_url`` values, replicas of the same model: each request goes
to the live replica with the fewest requests outstanding; a replica that cannot be reached
(or keeps failing) is taken out and the request goes to another one, so every request is
answered once (see :mod:`benchgate.backends.replicas`). The cache identity is the model, not
the replica; :attr:`~benchgate.records.Completion.replica` records which one answered.

Failures never raise out of :meth:`~OpenAIBackend.generate`: HTTP 429, 5xx, connection errors
and timeouts are retried with exponential backoff and jitter (honouring ``Retry-After``) up to
``retries`` times; after the last retry, and at once for any other 4xx, the request's completion
has ``finish_reason="error"`` and ``error`` set, which the scorer records as an *error* outcome
(never as a wrong answer).

The API key is read from the environment variable that ``api_key_env`` names; it is sent as a
bearer token and nowhere else: it is not part of :meth:`~OpenAIBackend.info`, of error
messages, of logs or of ``repr``.

References:
    OpenAI API reference, "Create chat completion" (``POST /v1/chat/completions``) and
    "List models" (``GET /v1/models``).
    RFC 9110, section 10.2.3 (``Retry-After``: delay-seconds or an HTTP-date).
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx

from benchgate.backends.base import BackendInfo, Request
from benchgate.backends.replicas import BUSY, ReplicaSet
from benchgate.config import ModelSpec
from benchgate.errors import BackendError, ConfigError
from benchgate.records import Completion

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Bumped whenever the way a request body is built changes (it is part of the cache key).
REQUEST_FORMAT_VERSION = 1

#: The OpenAI API accepts at most this many stop strings; further ones are applied client-side.
MAX_SERVER_STOP = 4

#: Fields of a ``GET /models`` entry that change without the model changing (vLLM sets
#: ``created`` to the time of the request and gives each permission a random id), so they are
#: left out of the backend's identity.
VOLATILE_MODEL_FIELDS = frozenset({"created", "object", "permission", "permissions"})

#: Seconds a re-admission probe (``GET /models`` on a replica that was taken out) may take.
READMIT_PROBE_TIMEOUT_S = 10.0

_FINISH_REASONS = {
    "stop": "stop",
    "eos": "stop",
    "eos_token": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
}

_UNREPORTED = "unreported"


@dataclass
class _Failure:
    """Why one attempt failed: a message, whether to retry, and the server's wait hint."""

    kind: str
    message: str
    retryable: bool
    retry_after_s: float | None = None


def _parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks to wait, or None if absent or invalid.

    Args:
        value: the header value: delay-seconds (``"3"``) or an HTTP-date
            (``"Wed, 21 Oct 2015 07:28:00 GMT"``), per RFC 9110 section 10.2.3.
        now: the current time for HTTP-dates (defaults to the clock).

    Returns:
        Seconds >= 0, or None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code, also inside a running event loop.

    With no loop running in this thread (a plain pytest test) it uses :func:`asyncio.run`;
    inside a running loop (a notebook, an async test) it runs the coroutine on a fresh loop in
    a helper thread and waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _message_text(content: Any) -> str:
    """Return a message's ``content`` as text (None -> ``""``; content parts are joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Return ``text`` up to the earliest occurrence of any stop string, and whether it was cut."""
    positions = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


class OpenAIBackend:
    """A model served by an OpenAI-compatible chat-completions server.

    Each request becomes ``POST {base_url}/chat/completions`` with the model's system prompt
    prepended to the messages, ``model`` = the served model name, ``max_tokens`` = the smaller
    of the request's and the model's cap, ``temperature``, ``top_p``, ``seed``, up to four
    ``stop`` strings (the model's, then the request's; all of them are also cut client-side)
    and ``reasoning_effort`` when set.

    Args:
        spec: a validated models.yaml entry with ``backend: openai`` (``base_url``, ``model``,
            ``api_key_env``, ``max_concurrency``, ``timeout_s``, ``retries``, ``generation``,
            ``system_prompt``, ``reasoning_effort``, ``reasoning_format``).
        backoff_base_s: first retry delay in seconds before jitter; attempt ``n`` (0-based)
            waits ``min(backoff_max_s, backoff_base_s * 2**n) * U(0.5, 1)`` ("equal jitter").
        backoff_max_s: cap on the exponential delay in seconds.
        max_retry_after_s: the longest ``Retry-After`` honoured, in seconds; longer hints are
            cut to this (with a warning) so a misconfigured proxy cannot stall a run for hours.
        rng_seed: seed of the jitter's random generator.
        readmit_after_s: seconds before a replica that was taken out is probed again
            (``GET /models``); the wait doubles after each failed probe.
        readmit_max_s: the longest wait between two probes of a replica, seconds.
        clock: monotonic clock for the re-admission times (injectable for tests).

    Raises:
        BackendError: ``spec.backend`` is not ``openai``; a ``base_url`` is not an http(s)
            URL or names an unset ``${VARIABLE}``; ``api_key_env`` names an environment
            variable that is not set.

    Notes:
        ``timeout_s`` bounds each attempt as a whole (connect, send, wait, read). ``latency_s``
        of a completion runs from the moment its request got a concurrency slot until its
        last attempt ended, so it includes retries and backoff waits; ``batch_wall_s`` is the
        wall time of the whole ``generate`` call (the concurrent window it ran in).
        ``completion_tokens`` is the server's count; when a stop string beyond the fourth cuts
        the text client-side, the count still includes the tokens after the cut.

        Replicas (several ``base_url``): ``max_concurrency`` applies per replica. A request
        whose connection fails (refused, reset, closed without an answer) goes at once to
        another live replica and that replica is taken out; timeouts and 5xx are retried
        (with backoff, counted against ``retries``) on the least loaded live replica, and a
        replica with ``retries + 1`` of them in a row is taken out. When no replica is live,
        a request waits its backoff and tries the replicas that are out (``retries`` times),
        then becomes an error completion. A request is answered at most once: its completion
        is the first successful answer.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_retry_after_s: float = 300.0,
        rng_seed: int = 0,
        readmit_after_s: float = 30.0,
        readmit_max_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if spec.backend != "openai":
            raise BackendError(
                f"model '{spec.id}': OpenAIBackend needs backend 'openai', got "
                f"'{spec.backend}'. Fix: use load_backend(spec)."
            )
        try:
            urls = spec.base_urls()
        except ConfigError as exc:
            raise BackendError(str(exc)) from None
        for url in urls or [""]:
            if not url.startswith(("http://", "https://")):
                raise BackendError(
                    f"model '{spec.id}': base_url {url!r} is not an http(s) URL. Fix: give "
                    "the server's API root, e.g. http://127.0.0.1:8000/v1."
                )
        key = spec.api_key()
        if spec.api_key_env and key is None:
            raise BackendError(
                f"model '{spec.id}': api_key_env names environment variable "
                f"'{spec.api_key_env}', which is not set. Fix: export {spec.api_key_env}=<key> "
                "before the run, or remove api_key_env for a server without authentication."
            )
        if backoff_base_s < 0 or backoff_max_s < 0 or max_retry_after_s < 0:
            raise ValueError("backoff_base_s, backoff_max_s and max_retry_after_s must be >= 0")
        self.spec = spec
        self.base_urls = urls
        self.base_url = urls[0]
        self.replicas = ReplicaSet(
            urls,
            model_id=spec.id,
            capacity=spec.max_concurrency,
            fail_limit=spec.retries + 1,
            readmit_after_s=readmit_after_s,
            readmit_max_s=readmit_max_s,
            clock=clock,
        )
        self._api_key = key or None
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_retry_after_s = max_retry_after_s
        self._rng = random.Random(rng_seed)
        self._rng_lock = threading.Lock()
        self._info: BackendInfo | None = None
        self._info_lock = threading.Lock()
        self._seen_fingerprints: set[str] = set()
        self._closed = False

    def __repr__(self) -> str:
        spec = self.spec
        urls = self.base_url if len(self.base_urls) == 1 else self.base_urls
        return f"OpenAIBackend(id={spec.id!r}, model={spec.model!r}, base_url={urls!r})"

    def replica_status(self) -> list[dict[str, Any]]:
        """Return each replica's state: see :meth:`ReplicaSet.status` (one entry per URL)."""
        return self.replicas.status()

    # ------------------------------------------------------------------ requests

    def _messages(self, request: Request) -> list[dict[str, str]]:
        messages = request.message_dicts()
        if self.spec.system_prompt:
            messages = [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return messages

    def _stops(self, request: Request) -> list[str]:
        """Return the model's then the request's stop strings, without duplicates or blanks."""
        return list(dict.fromkeys(s for s in (*self.spec.generation.stop, *request.stop) if s))

    def request_body(self, request: Request) -> dict[str, Any]:
        """Return the JSON body sent for ``request`` (without the API key, which is a header).

        Args:
            request: one prompt.

        Returns:
            The ``/chat/completions`` body: ``model``, ``messages``, ``max_tokens`` (per
            :meth:`ModelSpec.max_new_tokens_for`; omitted when None),
            ``temperature``, ``top_p``, ``seed``, ``stop`` (at most four, omitted when none),
            ``reasoning_effort`` (only when set).
        """
        gen = self.spec.generation
        body: dict[str, Any] = {
            "model": self.spec.model,
            "messages": self._messages(request),
            "temperature": gen.temperature,
            "top_p": gen.top_p,
            "seed": gen.seed,
        }
        max_tokens = self.spec.max_new_tokens_for(request.max_new_tokens)
        if max_tokens is not None:  # None: the server's own limit (see ModelSpec)
            body["max_tokens"] = max_tokens
        stops = self._stops(request)
        if stops:
            body["stop"] = stops[:MAX_SERVER_STOP]
        if self.spec.reasoning_effort:
            body["reasoning_effort"] = self.spec.reasoning_effort
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _redact(self, text: str) -> str:
        """Remove the API key from a message that may echo it (e.g. a server's error body)."""
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "[redacted]")
        return text

    def _client(self) -> httpx.AsyncClient:
        n = self.spec.max_concurrency * len(self.base_urls)
        return httpx.AsyncClient(
            headers=self._headers(),
            timeout=httpx.Timeout(self.spec.timeout_s),
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        with self._rng_lock:
            jitter = self._rng.uniform(0.5, 1.0)
        delay = min(self._backoff_max_s, self._backoff_base_s * 2**attempt) * jitter
        if retry_after_s is not None:
            if retry_after_s > self._max_retry_after_s:
                logger.warning(
                    "model '%s': server asked to wait %.0f s (Retry-After); waiting %.0f s",
                    self.spec.id,
                    retry_after_s,
                    self._max_retry_after_s,
                )
                retry_after_s = self._max_retry_after_s
            delay = max(delay, retry_after_s)
        return delay

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        base_url: str | None = None,
        timeout: float | None = None,
    ) -> Any | _Failure:
        """Make one HTTP call to ``base_url`` (default: the first); return JSON or a failure."""
        url = f"{base_url or self.base_url}{path}"
        timeout = timeout or self.spec.timeout_s
        try:
            response = await asyncio.wait_for(
                client.request(method, url, json=body), timeout=timeout
            )
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return _Failure("timeout", f"no response within {timeout:g} s", retryable=True)
        except httpx.UnsupportedProtocol as exc:
            return _Failure("connection error", f"{type(exc).__name__}: {exc}", retryable=False)
        except httpx.TransportError as exc:
            detail = str(exc) or "connection closed"
            return _Failure("connection error", f"{type(exc).__name__}: {detail}", retryable=True)
        status = response.status_code
        if status >= 400:
            excerpt = " ".join(response.text.split())[:300]
            retryable = status == 429 or status >= 500
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            return _Failure(f"HTTP {status}", excerpt, retryable, retry_after)
        try:
            return response.json()
        except ValueError:
            excerpt = " ".join(response.text.split())[:300]
            return _Failure(f"HTTP {status}", f"response is not JSON: {excerpt!r}", False)

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        base_url: str | None = None,
    ) -> Any | _Failure:
        """Make an HTTP call with retries; return the decoded JSON or the final failure."""
        retries = self.spec.retries
        attempt = 0
        while True:
            result = await self._attempt(client, method, path, body, base_url)
            if not isinstance(result, _Failure):
                return result
            if not result.retryable:
                result.message = self._redact(f"{result.kind} (not retried): {result.message}")
                return result
            if attempt >= retries:
                result.message = self._redact(
                    f"{result.kind} after {retries} retries: {result.message}"
                )
                return result
            delay = self._backoff(attempt, result.retry_after_s)
            logger.info(
                "model '%s': %s %s failed (%s); retry %d of %d in %.2f s",
                self.spec.id,
                method,
                path,
                self._redact(result.kind),
                attempt + 1,
                retries,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    def _completion(self, data: Any, request: Request, latency_s: float) -> Completion:
        """Turn a ``/chat/completions`` response body into a :class:`Completion`."""
        try:
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (KeyError, IndexError, TypeError, AttributeError):
            excerpt = _canonical_json(data)[:300] if isinstance(data, dict | list) else repr(data)
            return Completion(
                text="",
                finish_reason="error",
                latency_s=latency_s,
                error=self._redact(f"malformed response (no choices[0]): {excerpt}"),
            )
        fingerprint = data.get("system_fingerprint")
        if fingerprint and fingerprint not in self._seen_fingerprints:
            self._seen_fingerprints.add(fingerprint)
            known = self._info.identity.get("system_fingerprint") if self._info else None
            if known not in (None, _UNREPORTED) and fingerprint != known:
                logger.warning(
                    "model '%s': server's system_fingerprint changed from %r to %r during the "
                    "run; answers may come from a different deployment",
                    self.spec.id,
                    known,
                    fingerprint,
                )
        raw_reason = choice.get("finish_reason")
        finish_reason = _FINISH_REASONS.get(raw_reason, raw_reason) if raw_reason else "unknown"
        text, cut = _cut_at_stop(_message_text(message.get("content")), self._stops(request))
        if cut:
            finish_reason = "stop"
        reasoning = message.get("reasoning_content") or message.get("reasoning") or None
        if reasoning is not None and not isinstance(reasoning, str):
            reasoning = _canonical_json(reasoning)
        usage = data.get("usage") or {}
        details = usage.get("completion_tokens_details") or {}
        reasoning_tokens = details.get("reasoning_tokens") if isinstance(details, dict) else None
        return Completion(
            text=text,
            finish_reason=finish_reason,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_s=latency_s,
            reasoning=reasoning,
            reasoning_tokens=int(reasoning_tokens) if reasoning_tokens is not None else None,
        )

    # ------------------------------------------------------------------ replicas

    async def _acquire(self, ready: asyncio.Condition, exclude: set[str],
                       any_state: bool) -> str | None:
        """Wait for a slot on the replica that should take the request (None: none left)."""
        async with ready:
            while True:
                url = self.replicas.choose(exclude, any_state)
                if url != BUSY:
                    return url
                await ready.wait()

    async def _release(self, ready: asyncio.Condition, url: str) -> None:
        self.replicas.release(url)
        async with ready:
            ready.notify_all()

    def _start_probes(self, client: httpx.AsyncClient, probes: set[asyncio.Task]) -> None:
        """Start a re-admission probe for each replica that is out and due for one."""
        for url in self.replicas.due_probes():
            task = asyncio.ensure_future(self._readmit_probe(client, url))
            probes.add(task)
            task.add_done_callback(probes.discard)

    async def _readmit_probe(self, client: httpx.AsyncClient, url: str) -> None:
        """``GET {url}/models`` once; a JSON answer re-admits the replica."""
        timeout = min(self.spec.timeout_s, READMIT_PROBE_TIMEOUT_S)
        try:
            result = await self._attempt(client, "GET", "/models", None, url, timeout)
        except asyncio.CancelledError:
            self.replicas.probe_done(url, None)
            raise
        if isinstance(result, _Failure):
            self.replicas.probe_done(url, False, self._redact(f"{result.kind}: {result.message}"))
        else:
            self.replicas.probe_done(url, True)

    async def _send(
        self,
        client: httpx.AsyncClient,
        ready: asyncio.Condition,
        probes: set[asyncio.Task],
        body: dict[str, Any],
    ) -> tuple[Any | _Failure, str | None]:
        """POST ``body`` to ``/chat/completions`` with retries and replica failover.

        Returns:
            ``(decoded JSON, replica URL)`` on success, else ``(final failure, None)``.
        """
        retries = self.spec.retries
        several = len(self.base_urls) > 1
        attempt = 0  # retries spent
        tried: set[str] = set()  # replicas that failed this request since its last backoff
        last: dict[str, str] = {}  # the last failure per replica, for the final message
        failure: _Failure | None = None
        owed = False  # the last failure was a free failover, not yet paid from the retries
        fallback = False  # no replica was live: try those that are out as well
        while True:
            self._start_probes(client, probes)
            url = await self._acquire(ready, tried, fallback)
            if url is None:  # every candidate failed this request (or none was live)
                if failure is None:
                    failure = _Failure("connection error", "every replica is out", True)
                    last = {r["url"]: r["reason"] or "out" for r in self.replicas.status()}
                if owed or not tried:  # this round has not been paid for yet
                    if attempt >= retries:
                        return self._final(failure, last, retries, several), None
                    attempt += 1
                delay = self._backoff(attempt - 1, failure.retry_after_s)
                logger.info(
                    "model '%s': POST /chat/completions failed (%s); retry %d of %d in %.2f s",
                    self.spec.id, self._redact(failure.kind), attempt, retries, delay,
                )
                await asyncio.sleep(delay)
                tried.clear()
                owed = False
                fallback = not self.replicas.live()
                continue
            result = await self._attempt(client, "POST", "/chat/completions", body, url)
            if not isinstance(result, _Failure):
                self.replicas.succeeded(url)
                await self._release(ready, url)
                return result, url
            if result.retryable and result.kind != "HTTP 429":  # a rate limit is not death
                self.replicas.failed(
                    url, self._redact(f"{result.kind}: {result.message}")[:300],
                    unreachable=result.kind == "connection error",
                )
            await self._release(ready, url)
            failure = result
            last[url] = f"{result.kind}: {result.message}"
            tried.add(url)
            if not result.retryable:
                where = f" at {url}" if several else ""
                result.message = self._redact(
                    f"{result.kind} (not retried){where}: {result.message}"
                )
                return result, None
            if several and result.kind == "connection error":
                owed = True  # straight to another replica: no backoff, paid only if none is left
                continue
            if attempt >= retries:
                return self._final(failure, last, retries, several), None
            attempt += 1
            owed = False  # next: another replica at once, or (none left) a backoff first

    def _final(self, failure: _Failure, last: dict[str, str], retries: int,
               several: bool) -> _Failure:
        """Word the failure of a request that used up its retries."""
        detail = failure.message
        if several:
            detail = "no replica answered (" + "; ".join(f"{u}: {m}" for u, m in last.items()) + ")"
        failure.message = self._redact(f"{failure.kind} after {retries} retries: {detail}")
        return failure

    async def _one(
        self,
        client: httpx.AsyncClient,
        slots: asyncio.Semaphore,
        ready: asyncio.Condition,
        probes: set[asyncio.Task],
        index: int,
        request: Request,
    ) -> Completion:
        async with slots:
            start = time.perf_counter()
            try:
                result, url = await self._send(client, ready, probes, self.request_body(request))
                latency = time.perf_counter() - start
                if isinstance(result, _Failure):
                    logger.warning(
                        "model '%s': request %d failed: %s", self.spec.id, index, result.message
                    )
                    return Completion(
                        text="", finish_reason="error", latency_s=latency, error=result.message
                    )
                completion = self._completion(result, request, latency)
                if len(self.base_urls) > 1:
                    completion = dataclasses.replace(completion, replica=url)
                return completion
            except Exception as exc:  # noqa: BLE001 - a per-request failure is an error completion
                latency = time.perf_counter() - start
                message = self._redact(f"unexpected {type(exc).__name__}: {exc}")
                logger.warning("model '%s': request %d failed: %s", self.spec.id, index, message)
                return Completion(text="", finish_reason="error", latency_s=latency, error=message)

    async def _generate(self, requests: list[Request]) -> list[Completion]:
        slots = asyncio.Semaphore(self.spec.max_concurrency * len(self.base_urls))
        ready = asyncio.Condition()
        probes: set[asyncio.Task] = set()
        async with self._client() as client:
            try:
                tasks = [
                    self._one(client, slots, ready, probes, i, r) for i, r in enumerate(requests)
                ]
                start = time.perf_counter()
                done = list(await asyncio.gather(*tasks))
                wall = time.perf_counter() - start  # the concurrent window they all ran in
                return [dataclasses.replace(c, batch_wall_s=wall) for c in done]
            finally:  # a probe ends within READMIT_PROBE_TIMEOUT_S; its result is kept
                await asyncio.gather(*list(probes), return_exceptions=True)

    # ------------------------------------------------------------------ protocol

    def generate(self, requests: list[Request]) -> list[Completion]:
        """Send every request to the server, at most ``max_concurrency`` at a time.

        Args:
            requests: the prompts, any number (an empty list returns ``[]``).

        Returns:
            One completion per request, in the same order. A request that failed after its
            retries (or at once, for a 4xx other than 429, or a malformed response) is a
            completion with ``text=""``, ``finish_reason="error"`` and ``error`` naming the
            cause, e.g. ``"HTTP 500 after 3 retries: ..."``. ``reasoning`` holds the server's
            ``reasoning_content`` / ``reasoning`` field when it splits reasoning out;
            ``finish_reason`` is ``stop`` or ``length`` (common aliases mapped), any other
            reported value unchanged, or ``unknown`` when the server gave none.

        Works from synchronous code and from inside a running event loop (then on a helper
        thread). Never raises for a failed request.

        Raises:
            BackendError: the backend was closed.
        """
        if self._closed:
            raise BackendError(
                f"model '{self.spec.id}': generate() called after close(). Fix: load the backend "
                "again with load_backend(spec)."
            )
        if not requests:
            return []
        return _run_coroutine(self._generate(list(requests)))

    def render(self, request: Request) -> str:
        """Return the canonical JSON of the messages sent (system prompt included).

        Args:
            request: one prompt.

        Returns:
            ``json.dumps`` of the ``[{"role": ..., "content": ...}, ...]`` list with sorted keys,
            no whitespace and non-ASCII characters kept; the server applies the chat template.
        """
        return _canonical_json(self._messages(request))

    async def _probe(self) -> tuple[Any, Any]:
        """Ask the server which model it serves and its system fingerprint (once).

        With replicas, the first one (in models.yaml order) that answers ``GET /models``.
        """
        async with self._client() as client:
            for url in self.base_urls:
                models = await self._call(client, "GET", "/models", None, url)
                if not isinstance(models, _Failure):
                    break
            probe = await self._call(
                client,
                "POST",
                "/chat/completions",
                {
                    "model": self.spec.model,
                    "messages": [{"role": "user", "content": "ping"}],
                    "max_tokens": 1,
                    "temperature": 0.0,
                },
                url,
            )
        return models, probe

    def _server_model(self, models: Any) -> Any:
        if isinstance(models, _Failure):
            logger.warning(
                "model '%s': GET %s/models failed (%s); recording the server model as %r",
                self.spec.id,
                self.base_url,
                models.message,
                _UNREPORTED,
            )
            return _UNREPORTED
        entries = models.get("data") if isinstance(models, dict) else None
        if not isinstance(entries, list):
            return _UNREPORTED
        entries = [e for e in entries if isinstance(e, dict)]
        match = [e for e in entries if e.get("id") == self.spec.model]
        if not match and len(entries) == 1:
            # Single-model servers (llama.cpp, llama-cpp-python) answer under any name.
            match = entries
        if not match:
            logger.warning(
                "model '%s': the server does not list model %r (it lists %s); recording %r",
                self.spec.id,
                self.spec.model,
                [e.get("id") for e in entries],
                _UNREPORTED,
            )
            return _UNREPORTED
        return {k: v for k, v in match[0].items() if k not in VOLATILE_MODEL_FIELDS}

    def info(self) -> BackendInfo:
        """Return what identifies this backend's answers (for the response cache and run log).

        The first call asks the server once (``GET {base_url}/models`` and a one-token chat
        completion to read ``system_fingerprint``); later calls return the same object. A
        failed or unhelpful answer is recorded as ``"unreported"``, never raised.

        Returns:
            ``BackendInfo(backend="openai", identity=..., device=base_url)`` (replicas:
            their URLs joined by ``", "``; the server is asked through the first replica that
            answers) where identity
            holds: ``api``, ``request_format`` (:data:`REQUEST_FORMAT_VERSION`), ``model``
            (served name), ``server_model`` (the server's ``/models`` entry for it, without
            the volatile ``created``/``object``/``permission(s)`` fields, or ``"unreported"``),
            ``system_fingerprint`` (string, None when the server sends none, or
            ``"unreported"``), ``generation`` (max_new_tokens, temperature, top_p, stop,
            seed), ``system_prompt``, ``reasoning_effort`` and ``reasoning_format``. The
            API key, the key's variable name and the URL are not part of the identity (the
            same model on another host or port gives the same answers).
        """
        with self._info_lock:
            if self._info is None:
                models, probe = _run_coroutine(self._probe())
                if isinstance(probe, _Failure):
                    fingerprint: Any = _UNREPORTED
                elif isinstance(probe, dict):
                    fingerprint = probe.get("system_fingerprint")
                else:
                    fingerprint = _UNREPORTED
                if isinstance(fingerprint, str):
                    self._seen_fingerprints.add(fingerprint)
                self._info = BackendInfo(
                    backend="openai",
                    identity={
                        "api": "openai-chat-completions",
                        "request_format": REQUEST_FORMAT_VERSION,
                        "model": self.spec.model,
                        "server_model": self._server_model(models),
                        "system_fingerprint": fingerprint,
                        "generation": self.spec.generation.model_dump(),
                        "system_prompt": self.spec.system_prompt,
                        "reasoning_effort": self.spec.reasoning_effort,
                        "reasoning_format": self.spec.reasoning_format,
                    },
                    device=", ".join(self.base_urls),
                )
            return self._info

    def close(self) -> None:
        """Mark the backend closed; later :meth:`generate` calls raise :class:`BackendError`.

        No connections are held between calls (each :meth:`generate` opens and closes its own
        connection pool), so there is nothing else to release.
        """
        self._closed = True
