"""Server checks at start for ``backend: openai`` models: once per run, before any item.

A misconfigured server entry otherwise shows up item by item: every item an error outcome
(a dead server, a ``base_url`` without ``/v1``, an unset API key variable), or worse, a run
that passes under the wrong label (llama.cpp and llama-cpp-python answer under any model
name, so a typo in ``model`` runs the model they happen to serve). :func:`preflight` asks
each server (each replica) what a run needs and returns one :class:`Problem` per thing that
is wrong, each with the models.yaml field, the value and the fix. The pytest plugin
(:mod:`benchgate.plugin.preflight`) calls it once on the controller and stops the session
with exit status 4 when any model has a problem.

Checks, in order, per model:

1. every ``${NAME}`` in ``base_url`` names a set, non-empty environment variable;
2. ``api_key_env`` names a set, non-empty environment variable;
3. per replica: ``GET {base_url}/models`` answers an OpenAI model list (a 404 is diagnosed:
   ``/v1`` missing, or the chat endpoint given instead of the API root; 401/403: the key);
4. the server lists ``model`` (unless ``model_alias_ok: true``);
5. a one-token ``POST {base_url}/chat/completions`` succeeds (the route, the model name on
   servers that check it (vLLM answers 404 "model does not exist"), the chat template);
6. with several replicas: they list the same model entry (volatile fields aside).

References:
    OpenAI API reference: "List models" (``GET /v1/models``), "Create chat completion".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import httpx

from benchgate.backends.openai_compat import VOLATILE_MODEL_FIELDS
from benchgate.config import URL_VARIABLE, ModelSpec

#: The longest wait for ``GET /models`` in seconds (a server that takes longer is down).
MODELS_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a models.yaml entry's server, found before the run.

    Attributes:
        model: the entry's ``id``.
        field: the models.yaml field to change (``base_url``, ``api_key_env``, ``model``).
        value: the field's value as written or used (never an API key).
        problem: what is wrong, in one sentence.
        fix: what to do, in one sentence.
    """

    model: str
    field: str
    value: str
    problem: str
    fix: str

    def message(self, source: str | None = None) -> str:
        """Return the problem as one line: ``[source: ]model 'id', field 'f' ('v'): ... Fix: ...``.

        Args:
            source: the models.yaml path, prefixed when given.
        """
        where = f"{source}: " if source else ""
        return (f"{where}model '{self.model}', field '{self.field}' ({self.value!r}): "
                f"{self.problem}. Fix: {self.fix}")


def _excerpt(response: httpx.Response, secret: str | None) -> str:
    text = " ".join(response.text.split())[:200]
    return text.replace(secret, "[redacted]") if secret else text


def _model_list(response: httpx.Response) -> list[dict[str, Any]] | None:
    """The entries of a ``GET /models`` answer, or None when it is not an OpenAI model list."""
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    return [e for e in entries if isinstance(e, dict)]


class _Checker:
    """The checks of one model entry (one HTTP client, the problems found so far)."""

    def __init__(self, spec: ModelSpec, timeout_s: float) -> None:
        self.spec = spec
        self.timeout_s = timeout_s
        self.problems: list[Problem] = []
        self.key = spec.api_key() or None

    def add(self, field: str, value: str, problem: str, fix: str) -> None:
        self.problems.append(Problem(self.spec.id, field, value, problem, fix))

    def variables(self) -> list[str] | None:
        """Fill in ``${NAME}`` in every URL; None (and a problem per variable) if one is unset."""
        raw = self.spec.base_url
        templates = [raw] if isinstance(raw, str) else list(raw or [])
        missing = False
        for template in templates:
            for name in URL_VARIABLE.findall(template):
                if not os.environ.get(name):
                    missing = True
                    self.add("base_url", template,
                             f"environment variable {name} is not set",
                             f"export {name}=http://HOST:PORT/v1 before the run, or write the "
                             "URL in models.yaml")
        if missing:
            return None
        return self.spec.base_urls()

    def api_key(self) -> bool:
        name = self.spec.api_key_env
        if name and not os.environ.get(name):
            state = "is empty" if name in os.environ else "is not set"
            self.add("api_key_env", name, f"environment variable {name} {state}",
                     f"export {name}=<the server's API key> before the run, or remove "
                     "api_key_env for a server without authentication")
            return False
        return True

    def _auth_problem(self, url: str, what: str, status: int) -> None:
        if self.key:
            self.add("api_key_env", self.spec.api_key_env or "",
                     f"{what} at {url} answers HTTP {status}: the server refuses the key in "
                     f"{self.spec.api_key_env}",
                     f"put the server's valid API key in {self.spec.api_key_env}")
        else:
            self.add("api_key_env", "", f"{what} at {url} answers HTTP {status}: the server "
                     "wants an API key",
                     "add api_key_env: NAME to the entry and export NAME=<key> before the run")

    def _not_found(self, client: httpx.Client, url: str) -> None:
        """Explain a 404 at ``GET {url}/models``."""
        if url.endswith("/chat/completions"):
            root = url.removesuffix("/chat/completions")
            self.add("base_url", url, "this is the chat endpoint, not the API root (benchgate "
                     "adds /chat/completions and /models itself)", f"base_url: {root}")
            return
        if not url.endswith("/v1"):
            try:
                answer = client.get(f"{url}/v1/models", timeout=self.timeout_s)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 200 and _model_list(answer) is not None:
                self.add("base_url", url,
                         f"GET {url}/models answers HTTP 404 (so would POST "
                         f"{url}/chat/completions) but {url}/v1/models answers: the URL lacks "
                         "/v1", f"add /v1: base_url: {url}/v1")
                return
        self.add("base_url", url, f"GET {url}/models answers HTTP 404: not an OpenAI-compatible "
                 "API root", "give the URL under which the server serves /models and "
                 "/chat/completions (vLLM, SGLang, llama.cpp, Ollama: http://HOST:PORT/v1)")

    def models(self, client: httpx.Client, url: str) -> list[dict[str, Any]] | None:
        """``GET {url}/models``; the entries, or None after adding the problem."""
        several = isinstance(self.spec.base_url, list) and len(self.spec.base_url) > 1
        try:
            response = client.get(f"{url}/models", timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            self.add("base_url", url,
                     f"no server answers at {url} (GET /models: {type(exc).__name__}: {detail})",
                     "start the server (or wait until it has loaded the model), check host and "
                     "port" + (", or remove this replica from the list" if several else ""))
            return None
        status = response.status_code
        if status == 404:
            self._not_found(client, url)
            return None
        if status in (401, 403):
            self._auth_problem(url, "GET /models", status)
            return None
        if status >= 400:
            self.add("base_url", url, f"GET {url}/models answers HTTP {status}: "
                     f"{_excerpt(response, self.key)}",
                     "check the server's log; benchgate needs GET /models to answer")
            return None
        entries = _model_list(response)
        if entries is None:
            self.add("base_url", url, f"GET {url}/models does not answer an OpenAI model list "
                     f"(got {_excerpt(response, self.key)!r})",
                     "point base_url at an OpenAI-compatible API root, e.g. http://HOST:PORT/v1")
        return entries

    def served_name(self, url: str, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Check ``model`` against the listed names; return the matching entry (or None)."""
        ids = [str(e.get("id")) for e in entries]
        match = [e for e in entries if e.get("id") == self.spec.model]
        if match:
            return match[0]
        if self.spec.model_alias_ok:
            return entries[0] if len(entries) == 1 else None
        if len(ids) == 1:
            why = (f"the server at {url} lists only {ids[0]!r}; a single-model server "
                   f"(llama.cpp, llama-cpp-python) answers under any name, so the run would "
                   f"report {ids[0]!r}'s answers as {self.spec.model!r}'s")
            fix = (f"set model: {ids[0]}, or add model_alias_ok: true to the entry if "
                   f"{self.spec.model!r} is meant as an alias")
        else:
            why = f"the server at {url} lists {ids or 'no model'}, not {self.spec.model!r}"
            fix = ("use one of the listed names, or add model_alias_ok: true to the entry if the "
                   "server routes this alias itself")
        self.add("model", self.spec.model, why, fix)
        return None

    def chat(self, client: httpx.Client, url: str) -> None:
        """A one-token ``POST {url}/chat/completions``."""
        body = {"model": self.spec.model, "messages": [{"role": "user", "content": "ping"}],
                "max_tokens": 1, "temperature": 0.0}
        try:
            response = client.post(f"{url}/chat/completions", json=body,
                                   timeout=self.spec.timeout_s)
        except httpx.HTTPError as exc:
            self.add("base_url", url, f"POST {url}/chat/completions (one token) failed: "
                     f"{type(exc).__name__}: {str(exc) or 'no answer'}",
                     f"check the server's log; raise timeout_s ({self.spec.timeout_s:g} s) if "
                     "the server is only slow")
            return
        status = response.status_code
        if status < 400 or status == 429:  # rate limited: alive and serving
            return
        if status in (401, 403):
            self._auth_problem(url, "POST /chat/completions", status)
            return
        field, fix = "base_url", "check the server's log and the entry"
        if status in (400, 404):
            field = "model"
            fix = ("check 'model' against the server's message above and GET /models; a model "
                   "without a chat template needs one (vLLM --chat-template)")
        self.add(field, self.spec.model if field == "model" else url,
                 f"POST {url}/chat/completions (one token) answers HTTP {status}: "
                 f"{_excerpt(response, self.key)}", fix)

    def same_model(self, listed: dict[str, dict[str, Any]]) -> None:
        """With replicas: every replica lists the same entry (volatile fields aside)."""
        views = {u: {k: v for k, v in e.items() if k not in VOLATILE_MODEL_FIELDS}
                 for u, e in listed.items()}
        first_url, first = next(iter(views.items()))
        for url, view in views.items():
            if view != first:
                fields = sorted(k for k in set(first) | set(view) if first.get(k) != view.get(k))
                self.add("base_url", ", ".join(views),
                         f"the replicas serve different models: {first_url} and {url} differ in "
                         f"{', '.join(fields)} ({first_url}: "
                         f"{json.dumps({k: first.get(k) for k in fields})}; {url}: "
                         f"{json.dumps({k: view.get(k) for k in fields})})",
                         "serve the same checkpoint with the same settings on every replica, or "
                         "give each its own models.yaml entry")
                return

    def run(self) -> list[Problem]:
        urls = self.variables()
        key_ok = self.api_key()
        if urls is None or not key_ok:
            return self.problems
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        listed: dict[str, dict[str, Any]] = {}
        with httpx.Client(headers=headers) as client:
            for url in urls:
                before = len(self.problems)
                entries = self.models(client, url)
                if entries is None:
                    continue
                entry = self.served_name(url, entries)
                if len(self.problems) > before:
                    continue
                if entry is not None:
                    listed[url] = entry
                self.chat(client, url)
        if len(listed) > 1:
            self.same_model(listed)
        return self.problems


def preflight(spec: ModelSpec, timeout_s: float = MODELS_TIMEOUT_S) -> list[Problem]:
    """Check, before a run, that an ``openai`` entry's servers can serve it.

    Makes at most three HTTP calls per replica (``GET /models``, on a 404 ``GET .../v1/models``,
    and a one-token ``POST /chat/completions``); sends nothing for an entry whose URL or key
    variable is unset. Never raises for a server problem.

    Args:
        spec: a validated models.yaml entry (other backends: nothing to check).
        timeout_s: seconds to wait for ``GET /models`` (capped by the entry's
            ``timeout_s``); the chat call waits ``timeout_s`` of the entry.

    Returns:
        The problems found, in check order (empty when the servers are fine); see the module
        docstring for the checks.
    """
    if spec.backend != "openai":
        return []
    return _Checker(spec, min(timeout_s, spec.timeout_s)).run()
