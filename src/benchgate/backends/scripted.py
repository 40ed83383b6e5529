"""Scripted backend: completions chosen by rules from a file, for plugin tests and replays.

``backend: scripted`` in models.yaml, ``model:`` = a YAML or JSON file::

    rules:                      # first match wins; regex searched in the messages' text
      - match: "Janet"
        text: "The answer is 18"
      - match: "capital of France"
        text: ""
        finish_reason: error    # an error completion (error text below)
        error: "HTTP 500 after 3 retries"
      - match: "slow one"
        text: "The answer is B"
        delay_s: 2.0            # sleep before answering (crash-window tests)
    default: "I do not know"    # when no rule matches (omit for an error completion)

It never pretends to be a model: reports show ``backend: scripted``. It lets pytester
sessions plant regressions, improvements, format failures and backend errors exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import yaml

from benchgate.backends.base import BackendInfo, Request
from benchgate.config import ModelSpec
from benchgate.errors import BackendError
from benchgate.records import Completion


class ScriptedBackend:
    """Answers each request from the first matching rule of a script file.

    Args:
        spec: the models.yaml entry; ``spec.model`` is the script's path (relative paths
            are taken from the current directory).

    Raises:
        BackendError: the script is missing, unreadable or malformed (names file and field).
    """

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.path = Path(spec.model)
        try:
            raw = self.path.read_text(encoding="utf-8")
            script = yaml.safe_load(raw) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BackendError(
                f"model '{spec.id}': scripted backend cannot read {self.path} ({exc}). Fix: point "
                "'model' at a YAML file with 'rules:' and 'default:'."
            ) from None
        if not isinstance(script, dict) or not isinstance(script.get("rules", []), list):
            raise BackendError(f"{self.path}: expected a mapping with a 'rules' list. Fix: see "
                               "benchgate/backends/scripted.py.")
        self.rules: list[tuple[re.Pattern[str], dict[str, Any]]] = []
        for index, rule in enumerate(script.get("rules", [])):
            if not isinstance(rule, dict) or "match" not in rule:
                raise BackendError(f"{self.path}: rules[{index}] needs a 'match' regex. Fix: add it.")
            try:
                self.rules.append((re.compile(str(rule["match"])), rule))
            except re.error as exc:
                raise BackendError(f"{self.path}: rules[{index}].match is not a regex ({exc}).") from None
        self.default = script.get("default")
        self.digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
        self.calls = 0

    def info(self) -> BackendInfo:
        """Identity: the script's content hash and the system prompt."""
        return BackendInfo(
            backend="scripted",
            identity={"script": self.digest, "system_prompt": self.spec.system_prompt},
            device="none",
        )

    def render(self, request: Request) -> str:
        """Return the messages as canonical JSON (system prompt included)."""
        messages = request.message_dicts()
        if self.spec.system_prompt:
            messages = [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return json.dumps(messages, ensure_ascii=False, sort_keys=True)

    def _answer(self, request: Request) -> Completion:
        text = "\n".join(c for _, c in request.messages)
        for pattern, candidate in self.rules:
            if pattern.search(text):
                rule = candidate
                break
        else:
            if self.default is None:
                return Completion(text="", finish_reason="error", error="scripted: no rule matched")
            rule = {"text": self.default}
        if rule.get("delay_s"):
            time.sleep(float(rule["delay_s"]))
        finish = str(rule.get("finish_reason", "stop"))
        if finish == "error":
            return Completion(text="", finish_reason="error", error=str(rule.get("error", "scripted error")))
        out = str(rule.get("text", ""))
        return Completion(
            text=out,
            finish_reason=finish,
            prompt_tokens=len(text.split()),
            completion_tokens=len(out.split()),
            latency_s=float(rule.get("delay_s", 0.0)),
        )

    def generate(self, requests: list[Request]) -> list[Completion]:
        """Answer each request from the script, in order."""
        self.calls += len(requests)
        return [self._answer(r) for r in requests]

    def close(self) -> None:
        """Nothing to release."""
