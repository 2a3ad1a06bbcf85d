"""Audits that outlive their call (``linkage.disclosure.background``)."""

from __future__ import annotations

import threading

import pytest

from linkage.disclosure.background import AuditPending, BackgroundAudits
from linkage.disclosure.errors import AuditUnfinished, ProtectionRefused


class Gate:
    """Work that ends when the test opens the gate, counting how often it was started."""

    def __init__(self, value="table", error: Exception | None = None):
        self.value, self.error = value, error
        self.opened = threading.Event()
        self.started = 0

    def __call__(self):
        self.started += 1
        self.opened.wait(10)
        if self.error is not None:
            raise self.error
        return self.value


def test_an_audit_that_ends_within_the_wait_answers_the_call_and_is_timed():
    took = []
    audits = BackgroundAudits(observe=took.append)
    assert audits.run("a", lambda: threading.Event().wait(0.05) or 42, wait=5) == 42
    assert audits.under_way() == 0
    assert len(took) == 1 and 0.05 <= took[0] < 5


def test_a_call_past_its_wait_is_pending_and_asking_again_joins_the_same_audit():
    audits, work = BackgroundAudits(), Gate()
    with pytest.raises(AuditPending, match=r"being audited .*\(1 audits under way"):
        audits.run("a", work, wait=0.01)
    with pytest.raises(AuditPending):
        audits.run("a", work, wait=0.01)
    work.opened.set()
    assert audits.run("a", work, wait=5) == "table"
    assert work.started == 1
    assert audits.run("a", lambda: "again", wait=5) == "again"     # collected: a new ask starts afresh


def test_a_refusal_reached_after_the_call_is_told_to_the_next_ask_once():
    audits, work = BackgroundAudits(), Gate(error=ProtectionRefused("cannot be released safely"))
    with pytest.raises(AuditPending):
        audits.run("a", work, wait=0)
    work.opened.set()
    while audits.under_way():
        threading.Event().wait(0.01)
    with pytest.raises(ProtectionRefused, match="cannot be released safely"):
        audits.run("a", lambda: "not started", wait=5)
    assert work.started == 1


def test_beyond_the_limit_a_request_is_told_to_retry_and_nothing_starts():
    audits, work = BackgroundAudits(limit=1), Gate()
    with pytest.raises(AuditPending):
        audits.run("a", work, wait=0)
    later = Gate()
    with pytest.raises(AuditUnfinished, match="as many as this broker takes at once") as busy:
        audits.run("b", later, wait=0)
    assert not isinstance(busy.value, AuditPending) and later.started == 0
    work.opened.set()
    later.opened.set()
    assert audits.run("a", work, wait=5) == "table"
    assert audits.run("b", later, wait=5) == "table"


def test_an_outcome_nobody_collects_is_forgotten_after_its_time():
    audits, work = BackgroundAudits(keep_seconds=0), Gate(error=ProtectionRefused("refused"))
    with pytest.raises(AuditPending):
        audits.run("a", work, wait=0)
    work.opened.set()
    while audits.under_way():
        threading.Event().wait(0.01)
    threading.Event().wait(0.01)
    assert audits.run("a", lambda: "fresh", wait=5) == "fresh"
    assert work.started == 1
