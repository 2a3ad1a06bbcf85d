"""Audits that outlive the call that asked for them.

A new table's joint audit grows with the releases on its population, and audits on one
population take turns: under load a requester's call would wait for every audit queued ahead
of it, holding a server thread (50 requesters over 60 releases: p99 409 s, and repeats that
need no audit waited behind them for threads). So a call waits for its audit at most ``wait``
seconds; past them it gets ``AuditPending`` (retryable) and the audit goes on by itself.
Asking again with the same key joins the audit under way or takes its outcome: a table that
passed is in the ledger by then (the caller answers it from there, as every repeat), a
refusal or an unfinished audit is kept for the next ask (``keep_seconds``), so it is told
rather than audited again.

Nothing leaves before it is recorded: the audit records its tables in the ledger, then ends.
A broker killed meanwhile loses only the audits under way, of which nothing was recorded or
answered; asking again starts them afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from linkage.disclosure.errors import AuditUnfinished

T = TypeVar("T")

PENDING = ("the table is being audited against the tables released before on the same persons "
           "({under_way} audits under way or waiting); nothing has been released yet. Ask again in "
           "a few seconds: the same request then gets its table")


class AuditPending(AuditUnfinished):
    """The request's audit goes on after the call: the same request, asked again, joins it or
    gets its outcome. ``started``: this call started the audit (else it joined one)."""

    def __init__(self, under_way: int, started: bool) -> None:
        super().__init__(PENDING.format(under_way=under_way))
        self.under_way, self.started = under_way, started


@dataclass(eq=False)
class _Audit(Generic[T]):
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None
    ended: float = 0.0

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class BackgroundAudits:
    """Audits by key (a request's fingerprint), each in its own thread, at most ``limit``
    under way or waiting for their turn at once (None: no limit). ``observe`` gets the seconds
    each audit took, from its start to its outcome (for the operator's metrics)."""

    def __init__(self, limit: int | None = None, keep_seconds: float = 600.0,
                 observe: Callable[[float], object] | None = None) -> None:
        self.limit = limit
        self.keep_seconds = keep_seconds
        self.observe = observe
        self._lock = threading.Lock()
        self._audits: dict[str, _Audit] = {}

    def run(self, key: str, work: Callable[[], T], wait: float) -> T:
        """The outcome of ``work`` (returned or raised) for ``key``, started now unless an audit
        for ``key`` is under way or ended uncollected. Raises AuditPending when it has not
        ended within ``wait`` seconds, and AuditUnfinished (retryable, nothing started) when
        ``limit`` audits are under way already."""
        with self._lock:
            self._forget_stale()
            audit = self._audits.get(key)
            started = audit is None
            if audit is None:
                if self.limit is not None and self.under_way() >= self.limit:
                    raise AuditUnfinished(
                        f"{self.limit} requests are being audited against earlier releases or "
                        "waiting for it, as many as this broker takes at once: ask again in a "
                        "minute (nothing was released or recorded)")
                audit = self._audits[key] = _Audit()
                threading.Thread(target=self._work, args=(audit, work, self.observe),
                                 name=f"audit-{key[:8]}", daemon=True).start()
        if not audit.done.wait(max(wait, 0.0)):
            with self._lock:
                raise AuditPending(self.under_way(), started)
        with self._lock:
            if self._audits.get(key) is audit:
                del self._audits[key]
        return audit.outcome()

    def under_way(self) -> int:
        """Audits started and not ended."""
        return sum(not a.done.is_set() for a in list(self._audits.values()))

    @staticmethod
    def _work(audit: _Audit, work: Callable[[], object], observe: Callable[[float], object] | None) -> None:
        try:
            audit.value = work()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks next
            audit.error = exc
        audit.ended = time.monotonic()
        try:
            if observe is not None:
                observe(audit.ended - audit.started)
        finally:
            audit.done.set()

    def _forget_stale(self) -> None:
        """Drops outcomes nobody collected within ``keep_seconds`` (called with the lock)."""
        now = time.monotonic()
        for key in [k for k, a in self._audits.items()
                    if a.done.is_set() and now - a.ended > self.keep_seconds]:
            del self._audits[key]
