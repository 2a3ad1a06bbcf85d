"""Releasing the tables of one request through the person ledger.

Per table: ``protect`` (primary rules, secondary suppression and the single-table audit),
told by the ledger which cells count persons published before (published again: the same
persons give the same value) or hidden before (hidden again). Then the joint audit over
atoms (``joint``) checks the new tables with every earlier release on their population (the
releases that share persons with them, directly or through other releases) and hides more of
the new tables where needed. Audits take turns on the ledger (``PersonLedger.turn``), so each
commits against the ledger it audited.

A table whose every set of persons was published or hidden before, with the same status,
adds nothing and is not recorded again; an identical request is answered from the ledger.
The reasons for hiding a cell (``primary``, ``secondary``, ``earlier``, ``joint``) stay
inside: callers log their counts, never per cell.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from linkage.disclosure.atoms import DEN, NUM, Membership, Signatures, TableFigures, persons_of
from linkage.disclosure.errors import AuditUnfinished, ProtectionRefused
from linkage.disclosure.joint import AuditRelease, joint_audit
from linkage.disclosure.person_ledger import EMPTY_SET, LedgerView, PersonLedger, StoredRelease
from linkage.disclosure.protect import protect
from linkage.disclosure.reads import Reads
from linkage.disclosure.result import PRIMARY
from linkage.disclosure.table import Dimension, TableStructure

MAX_ATTEMPTS = 8
PUBLISHED, SUPPRESSED = "published", "suppressed"


@dataclass(frozen=True)
class TableInput:
    """One measure's table: leaf counts (and numerators), and the units behind them."""

    dimensions: tuple[Dimension, ...]
    counts: Mapping[tuple[str, ...], int]
    membership: Membership
    numerators: Mapping[tuple[str, ...], int] | None = None
    measure: str = ""            # a rate table: the name of its numerator status
    reads: Reads | None = None   # what decides a unit's cell (None: anything)


@dataclass(frozen=True)
class ReleasedTable:
    keys: tuple[tuple[str, ...], ...]
    values: np.ndarray           # (1 or 2, cells): persons, and numerators for rates
    suppressed: np.ndarray       # bool per cell
    reasons: Counter             # hidden cells by internal reason (for the audit log only)

    def status(self, cell: int) -> str:
        return SUPPRESSED if self.suppressed[cell] else PUBLISHED


class _History:
    """``protect``'s ledger interface, answered from a ledger view: no earlier blocks (the
    joint audit relates releases), and cell statuses from the sets of persons."""

    def __init__(self, figures: TableFigures, view: LedgerView, k: int):
        self.figures, self.view, self.k = figures, view, k
        self.forced = np.zeros(figures.structure.n_cells, dtype=bool)
        self.stuck = np.zeros(figures.structure.n_cells, dtype=bool)

    @contextmanager
    def session(self, snapshot, population):
        yield self

    def prior_blocks(self, structure):
        return [], []

    def statuses(self, keys, values):
        hashes = self.figures.hashes[[DEN, NUM][:len(keys)]]
        known = hashes != EMPTY_SET
        published = np.vectorize(lambda h: int(h) in self.view.published)(hashes) & known
        hidden = np.vectorize(lambda h: int(h) in self.view.hidden)(hashes) & known
        self.forced = published.all(axis=0) & known.any(axis=0)
        self.stuck = hidden.any(axis=0)
        small = (self.figures.values[DEN] >= 1) & (self.figures.values[DEN] < self.k)
        return self.forced, self.stuck, self.stuck & small

    def record(self, *args, **kwargs) -> None:
        """Recording happens after the joint audit (``release_tables``)."""


def _draft(table: TableInput, view: LedgerView, release_id: int, k: int, minimum: int
           ) -> tuple[StoredRelease, _History, np.ndarray]:
    structure = TableStructure(table.dimensions)
    figures = TableFigures(structure, table.membership)
    history = _History(figures, view, k)
    protected = protect(list(table.dimensions), table.counts, k=k, minimum=minimum,
                        numerators=table.numerators, ledger=history, snapshot="persons",
                        numerator_measure=table.measure or "numerator")
    suppressed = np.array([c.suppressed for c in protected.cells], dtype=bool)
    primary = np.array([c.status == PRIMARY for c in protected.cells], dtype=bool)
    draft = StoredRelease(release_id, tuple(table.dimensions), table.membership, suppressed,
                          k, table.measure, table.reads)
    draft._figures = figures
    return draft, history, primary


def _adds_something(draft: StoredRelease, view: LedgerView) -> tuple[bool, bool]:
    """Whether the draft hides and whether it publishes a set not seen with that status."""
    hidden, shown = draft.hidden_and_published()
    return bool(hidden - view.hidden - view.published), bool(shown - view.published)


@dataclass
class _Drafts:
    """The tables of one request protected against one view of the ledger, before the joint
    audit: per table the draft release, what the ledger told it, its primary cells, and
    whether it hides or publishes a set the ledger has not seen with that status."""

    view: LedgerView
    drafts: list[StoredRelease]
    histories: list[_History]
    primaries: list[np.ndarray]
    news: list[tuple[bool, bool]]

    @property
    def adds_something(self) -> bool:
        return any(h or p for h, p in self.news)

    def released(self, added: dict[int, set[int]] | None = None) -> list[ReleasedTable]:
        added = added or {}
        return [_released(d, h, p, added.get(i, set()))
                for i, (d, h, p) in enumerate(zip(self.drafts, self.histories, self.primaries))]


def _drafts(tables: Sequence[TableInput], view: LedgerView, first_id: int, k: int,
            minimum: int) -> _Drafts:
    drafted = [_draft(table, view, first_id + i, k, minimum) for i, table in enumerate(tables)]
    drafts = [d for d, _, _ in drafted]
    return _Drafts(view, drafts, [h for _, h, _ in drafted], [p for _, _, p in drafted],
                   [_adds_something(d, view) for d in drafts])


def _audit(drafted: _Drafts, k: int, deadline: float | None = None
           ) -> tuple[list[ReleasedTable], dict]:
    """The drafts audited jointly with the releases of their view that share persons with
    them (when they add anything): the others are another population, which nothing in the
    drafts can narrow and which can narrow nothing in them."""
    view = drafted.view
    related, counted = view.related(persons_of(d.membership for d in drafted.drafts))
    stats = {"joint_releases": len(related), "quantities": 0, "lp_solves": 0}
    added: dict[int, set[int]] = {}
    if drafted.adds_something:
        signatures = view.signatures.subset(counted)
        for d in drafted.drafts:
            signatures.add(d.release_id, d.membership)
        model = [AuditRelease(r.release_id, r.figures, r.suppressed, r.k, r.measure, r.reads)
                 for r in related]
        base = len(model)
        model += [AuditRelease(d.release_id, d.figures, d.suppressed, d.k, d.measure, d.reads,
                               new=True, forced=h.forced)
                  for d, h in zip(drafted.drafts, drafted.histories)]
        result = joint_audit(model, signatures, k, recheck_earlier=any(p for _, p in drafted.news),
                             deadline=deadline)
        stats.update(quantities=result.quantities, lp_solves=result.solves)
        added = {bi - base: cells for bi, cells in result.added.items()}
    return drafted.released(added), stats


def release_alone(tables: Sequence[TableInput], k: int, minimum: int) -> list[ReleasedTable]:
    """The tables of one request protected together, without a ledger (nothing recorded)."""
    empty = LedgerView(0, (), Signatures(), frozenset(), frozenset())
    return _audit(_drafts(tables, empty, 1, k, minimum), k)[0]


@dataclass(eq=False)
class _Request:
    """One request's tables waiting for an audit (``PersonLedger.waiting``), and its outcome
    once audited, possibly by the audit of another request that took it over."""

    tables: Sequence[TableInput]
    k: int
    minimum: int
    fingerprint: str
    render: Callable[[list[ReleasedTable]], bytes]
    persons: np.ndarray
    drafted: _Drafts | None = None
    """The tables protected against the view the request first saw (reused if it still holds)."""
    outcome: tuple[list[ReleasedTable], bytes, dict] | None = None
    error: Exception | None = None
    finished: bool = False

    def result(self) -> tuple[list[ReleasedTable], bytes, dict]:
        if self.error is not None:
            raise self.error
        if self.outcome is None:
            raise AuditUnfinished()
        return self.outcome


def release_tables(tables: Sequence[TableInput], k: int, minimum: int, ledger: PersonLedger,
                   fingerprint: str, render: Callable[[list[ReleasedTable]], bytes],
                   deadline: float | None = None, audit_limit: float | None = None
                   ) -> tuple[list[ReleasedTable], bytes, dict]:
    """Protects and records the tables of one request; returns them, the rendered answer
    (``render`` makes the bytes stored for an identical request) and audit statistics.
    Raises ProtectionRefused when they cannot be released safely, and AuditUnfinished
    (retryable, nothing recorded) past ``deadline`` (``time.monotonic()``, waiting for the
    ledger's turn included), more than ``audit_limit`` seconds after the audit got its turn,
    or when the ledger keeps changing under the audit.

    Requests waiting for the turn on the same population are audited together by whoever
    gets it (group commit): every new table is still audited with every release on its
    population and with the others of the batch, and a queue of N new tables costs one
    audit instead of N (``MAX_BATCH`` at most)."""
    seen = ledger.view()
    drafted = _drafts(tables, seen, ledger.next_id(seen), k, minimum)
    if not drafted.adds_something:         # every set shown or hidden before: no audit to wait for
        released = drafted.released()
        answer = render(released)
        if ledger.commit(seen, [], fingerprint, answer):
            return released, answer, {"joint_releases": len(seen.releases), "recorded": 0}
    request = _Request(tables, k, minimum, fingerprint, render, persons_of(t.membership for t in tables),
                       drafted)
    with ledger.waiting(request), ledger.turn(deadline, request.persons, lambda: request.finished) as took:
        if took and not request.finished:
            if audit_limit is not None:
                deadline = min(math.inf if deadline is None else deadline, time.monotonic() + audit_limit)
            batch = [request] + ledger.claim(
                request, lambda other: other.k == k and other.minimum == minimum, MAX_BATCH - 1)
            try:
                _audit_batch(batch, ledger, deadline)
            finally:
                for other in batch[1:]:
                    if other.outcome is None and other.error is None:
                        other.error = AuditUnfinished()
                ledger.finish(batch[1:])
    return request.result()


MAX_BATCH = 4
"""Requests one audit takes over at most. A batch's audit grows with its tables, and one past
the audit time limit fails every request in it: with 16, 50 requesters over 60 releases got
22 errors and p99 600 s (0.19 requests/s); with 4, none and 409 s (0.29 requests/s; one at a
time before: 374 s, 0.31 requests/s). Since all 50 may wait for a turn (64 server threads),
batches of 4 against one at a time: 50 requesters 0.37 / 0.35 requests/s, new tables p50
236 / 226 s, 18 / 4 past the audit time limit; 8 requesters p99 7.8 / 11.3 s, 2.73 / 1.79
requests/s. Letting a batch run to its latest member's deadline changed nothing (17 past the
limit): the requests time out waiting for their turn, not in a batch."""


def _audit_batch(batch: list[_Request], ledger: PersonLedger, deadline: float | None) -> None:
    """Audits and records the requests of ``batch`` together; when that is refused, each on
    its own, so that only the request that cannot be released safely is refused. Outcomes
    and errors go to the requests."""
    try:
        outcomes = _audit_together(batch, ledger, deadline)
    except ProtectionRefused as refused:
        if len(batch) == 1:
            batch[0].error = refused
            return
        for request in batch:
            _audit_batch([request], ledger, deadline)
        return
    except AuditUnfinished as unfinished:
        for request in batch:
            request.error = unfinished
        return
    for request, outcome in zip(batch, outcomes):
        request.outcome = outcome


def _audit_together(batch: list[_Request], ledger: PersonLedger, deadline: float | None
                    ) -> list[tuple[list[ReleasedTable], bytes, dict]]:
    """One joint audit of the new tables of every request of ``batch`` (same ``k``), then
    one commit of them all; per request its tables, answer and statistics."""
    for _ in range(MAX_ATTEMPTS):
        view = ledger.view()
        parts, first = [], ledger.next_id(view)
        for request in batch:
            earlier = request.drafted
            same = earlier is not None and earlier.view.version == view.version and \
                earlier.drafts[0].release_id == first
            parts.append(earlier if same else _drafts(request.tables, view, first, request.k, request.minimum))
            request.drafted = None          # an audit changes its drafts: protect afresh next time
            first += len(request.tables)
        joint = _Drafts(view, *(sum((getattr(p, name) for p in parts), [])
                                for name in ("drafts", "histories", "primaries", "news")))
        released, stats = _audit(joint, batch[0].k, deadline)
        outcomes, entries, start = [], [], 0
        for request, part in zip(batch, parts):
            mine = released[start:start + len(part.drafts)]
            start += len(part.drafts)
            answer = request.render(mine)
            keep = [d for d in part.drafts if any(_adds_something(d, view))]
            entries.append((keep, request.fingerprint, answer))
            outcomes.append((mine, answer, {**stats, "recorded": len(keep), "batch": len(batch)}))
        if ledger.commit_all(view, entries):
            return outcomes
    raise AuditUnfinished()


def _released(draft: StoredRelease, history: _History, primary: np.ndarray,
              joint: set[int]) -> ReleasedTable:
    st = draft.figures.structure
    reasons: Counter = Counter()
    for c in np.flatnonzero(draft.suppressed):
        reason = ("joint" if c in joint else "primary" if primary[c]
                  else "earlier" if history.stuck[c] else "secondary")
        reasons[reason] += 1
    values = draft.figures.values[:2]
    return ReleasedTable(tuple(st.key(c) for c in range(st.n_cells)), values,
                         draft.suppressed.copy(), reasons)
