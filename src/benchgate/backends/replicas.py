"""Replicas of one served model: which one takes the next request, and which are out.

A models.yaml entry with ``backend: openai`` may list several ``base_url`` values: copies of
the same model (vLLM data-parallel replicas, nodes behind no load balancer). The backend
keeps one :class:`ReplicaSet` per entry for the whole run. Every request goes to the live
replica with the fewest requests outstanding ("least outstanding requests", ties to the one
that has served fewest, then file order), never past ``capacity`` requests per replica. A
replica that cannot be reached is taken out at once, one that keeps failing (timeouts, 5xx)
after ``fail_limit`` consecutive failures; the request is retried on another replica by the
backend. A replica that is out is probed again after ``readmit_after_s`` seconds (doubling
after each failed probe, up to ``readmit_max_s``) and re-admitted when the probe succeeds,
or at once when a request it was still serving succeeds.

The set is plain bookkeeping guarded by a lock (no I/O, no event loop), so it outlives the
event loop of each ``generate`` call and can be read from any thread.

References:
    Least outstanding requests: Envoy proxy, "Supported load balancers: weighted least
    request"; AWS Application Load Balancer, "least outstanding requests" routing algorithm.
    Passive health checking with ejection and timed re-admission: Envoy, "Outlier
    detection" (consecutive 5xx / connection failures, ejection time grows with each
    ejection).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class Replica:
    """One server of a model and what the run has seen of it.

    Attributes:
        url: the API root, e.g. ``http://10.0.0.2:8000/v1``.
        up: True while it takes requests.
        outstanding: requests sent and not yet answered.
        served: successful answers.
        failures_in_row: failed attempts since its last success.
        taken_out: how many times it was taken out.
        reason: why it was last taken out (None while it never was).
        probe_at: clock time of its next re-admission probe (None while up).
        probe_delay_s: the wait before the next probe after a failed one, seconds.
        probing: a probe is running now.
    """

    url: str
    up: bool = True
    outstanding: int = 0
    served: int = 0
    failures_in_row: int = 0
    taken_out: int = 0
    reason: str | None = None
    probe_at: float | None = None
    probe_delay_s: float = 0.0
    probing: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)


#: :meth:`ReplicaSet.choose` found live replicas, but all are at capacity: wait for a release.
BUSY = "busy"


class ReplicaSet:
    """Health and load of the replicas of one model.

    Args:
        urls: the replicas' API roots (at least one, no duplicates).
        model_id: the models.yaml id, for log messages.
        capacity: requests in flight per replica (> 0), the entry's ``max_concurrency``.
        fail_limit: consecutive failed attempts (timeouts, 5xx) that take a replica out.
        readmit_after_s: seconds after a replica is taken out before the first probe.
        readmit_max_s: the longest wait between probes, seconds.
        clock: monotonic clock in seconds (injectable for tests).

    Raises:
        ValueError: no URL, a duplicate URL, or a non-positive capacity or limit.
    """

    def __init__(
        self,
        urls: list[str],
        *,
        model_id: str = "",
        capacity: int = 8,
        fail_limit: int = 3,
        readmit_after_s: float = 30.0,
        readmit_max_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls or len(set(urls)) != len(urls):
            raise ValueError(f"replica URLs must be non-empty and distinct, got {urls!r}")
        if capacity < 1 or fail_limit < 1 or readmit_after_s < 0 or readmit_max_s < 0:
            raise ValueError("capacity and fail_limit must be >= 1, readmit times >= 0")
        self.model_id = model_id
        self.capacity = capacity
        self.fail_limit = fail_limit
        self.readmit_after_s = readmit_after_s
        self.readmit_max_s = max(readmit_max_s, readmit_after_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._replicas = [Replica(url) for url in urls]
        self._by_url = {r.url: r for r in self._replicas}

    def __len__(self) -> int:
        return len(self._replicas)

    @property
    def urls(self) -> list[str]:
        """The replicas' URLs in models.yaml order."""
        return [r.url for r in self._replicas]

    def live(self) -> list[str]:
        """The URLs of the replicas that take requests now."""
        with self._lock:
            return [r.url for r in self._replicas if r.up]

    # ----------------------------------------------------------------- choosing

    def choose(self, exclude: frozenset[str] | set[str] = frozenset(),
               any_state: bool = False) -> str | None:
        """Reserve a slot on the replica that should take the next request.

        Args:
            exclude: URLs not to use (those that already failed this request).
            any_state: also consider replicas that are out (when none is up, a request's
                retry goes to the one out the longest rather than nowhere).

        Returns:
            The chosen URL (its ``outstanding`` count is raised: call :meth:`release`),
            :data:`BUSY` when live candidates exist but all are at capacity, or None when
            no candidate is left.
        """
        with self._lock:
            pool = [r for r in self._replicas if r.url not in exclude and (r.up or any_state)]
            if not pool:
                return None
            free = [r for r in pool if r.outstanding < self.capacity]
            if not free:
                return BUSY
            # Live ones first; among those out, the one taken out longest ago.
            best = min(free, key=lambda r: (not r.up, r.outstanding, r.served,
                                            r.probe_at or 0.0, self._replicas.index(r)))
            best.outstanding += 1
            return best.url

    def release(self, url: str) -> None:
        """Free the slot :meth:`choose` reserved on ``url``."""
        with self._lock:
            replica = self._by_url[url]
            replica.outstanding = max(0, replica.outstanding - 1)

    # ----------------------------------------------------------------- outcomes

    def succeeded(self, url: str) -> None:
        """Record an answer from ``url``; a replica that was out is re-admitted."""
        with self._lock:
            replica = self._by_url[url]
            replica.served += 1
            replica.failures_in_row = 0
            if not replica.up:
                self._readmit(replica, "it answered a request")

    def failed(self, url: str, reason: str, unreachable: bool) -> bool:
        """Record a failed attempt on ``url``; take the replica out when it looks dead.

        Args:
            url: the replica.
            reason: the failure, for the log and :meth:`status`.
            unreachable: the connection failed (refused, reset, closed without an answer):
                out at once. Otherwise (a timeout, a 5xx) out after ``fail_limit`` in a row.

        Returns:
            True when this call took the replica out.
        """
        with self._lock:
            replica = self._by_url[url]
            replica.failures_in_row += 1
            if not replica.up or len(self._replicas) == 1:
                return False  # one replica: nowhere else to go, the backend's retries apply
            if not unreachable and replica.failures_in_row < self.fail_limit:
                return False
            replica.up = False
            replica.taken_out += 1
            replica.reason = reason
            replica.probe_delay_s = self.readmit_after_s
            replica.probe_at = self._clock() + self.readmit_after_s
            replica.history.append({"event": "taken out", "reason": reason})
            left = sum(r.up for r in self._replicas)
        logger.warning(
            "model '%s': replica %s taken out (%s); %d of %d replicas take the requests; "
            "probing it again in %.0f s",
            self.model_id, url, reason, left, len(self._replicas), self.readmit_after_s,
        )
        return True

    # ----------------------------------------------------------------- re-admission

    def due_probes(self) -> list[str]:
        """Claim the replicas that are out and due for a probe (each by one caller only).

        Returns:
            Their URLs; the caller probes each and reports with :meth:`probe_done`.
        """
        now = self._clock()
        with self._lock:
            due = [r for r in self._replicas
                   if not r.up and not r.probing and r.probe_at is not None and r.probe_at <= now]
            for replica in due:
                replica.probing = True
            return [r.url for r in due]

    def probe_done(self, url: str, ok: bool | None, reason: str = "") -> None:
        """Record a probe's result.

        Args:
            url: the probed replica.
            ok: True: re-admit it; False: probe again after twice the last wait (up to
                ``readmit_max_s``); None: the probe was cancelled (due again at once).
            reason: why the probe failed, for :meth:`status`.
        """
        with self._lock:
            replica = self._by_url[url]
            replica.probing = False
            if replica.up or ok is None:
                return
            if ok:
                self._readmit(replica, "a probe succeeded")
                return
            replica.probe_delay_s = min(self.readmit_max_s, max(replica.probe_delay_s * 2, 1e-3))
            replica.probe_at = self._clock() + replica.probe_delay_s
            replica.history.append({"event": "probe failed", "reason": reason})

    def _readmit(self, replica: Replica, why: str) -> None:
        replica.up = True
        replica.failures_in_row = 0
        replica.probe_at = None
        replica.history.append({"event": "re-admitted", "reason": why})
        logger.warning("model '%s': replica %s re-admitted (%s)", self.model_id, replica.url, why)

    # ----------------------------------------------------------------- reporting

    def status(self) -> list[dict[str, Any]]:
        """Return each replica's state as builtins (for logs and the run log).

        Returns:
            One dict per replica, in models.yaml order: ``url``, ``up``, ``served``,
            ``outstanding``, ``taken_out`` (count), ``reason`` (the last one, or None) and
            ``history`` (``{"event", "reason"}`` dicts: taken out, probe failed,
            re-admitted).
        """
        with self._lock:
            return [
                {"url": r.url, "up": r.up, "served": r.served, "outstanding": r.outstanding,
                 "taken_out": r.taken_out, "reason": r.reason,
                 "history": [dict(h) for h in r.history]}
                for r in self._replicas
            ]
