"""The broker's release ledger over persons: every released table as sets of units, sealed.

One ledger for all requesters and all runs (they are assumed to collude; units are
persons, so releases on two runs, or two periods, over the same persons are one model). It
keeps, per release, the table's dimensions, each entry's person, leaf cell and numerator flag, the threshold
and which cells were hidden; per unit the hash of its membership signature (atoms,
``atoms.Signatures``); the set hashes that were published or hidden; and the answers given,
by request fingerprint, so an identical request is answered from the ledger and adds
nothing.

Nothing is stored in clear: each record is sealed by the ``Sealer`` the caller passes
(the broker derives its key from the data key). The SQLite file only holds ids and
sealed blobs.

Concurrency: audits of new tables on one population take turns (``turn``); audits on
populations no release joins run side by side. Requests waiting for a turn are listed
(``waiting``), and the audit that has the turn may take them over (``claim``) and audit them
with its own: their owners stop waiting when that audit is done (``turn``'s ``done``), so a
queue of new tables costs one audit, not one each. Each works on a ``LedgerView`` (a version
number and the releases at that version), and ``commit`` still fails, as a safety net, when
a release on its population came in between (the caller then audits again).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar, cast

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.disclosure.atoms import Membership, Signatures, TableFigures, persons_of
from linkage.disclosure.errors import AuditUnfinished, LedgerError
from linkage.disclosure.reads import Reads
from linkage.disclosure.table import Dimension, TableStructure
from linkage.sqlite import immediate_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (id INTEGER PRIMARY KEY, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS answers (fingerprint TEXT PRIMARY KEY, blob BLOB NOT NULL);
"""
UNITS = "person"
"""What a unit is in a stored release; releases of another unit model cannot be related."""
EMPTY_SET = int(TableFigures(TableStructure([Dimension("d", ["x"])]),
                             Membership(np.zeros(0, np.uint64), np.zeros(0, np.int64))
                             ).hashes[0, 0])


class Sealer(Protocol):
    def seal(self, label: str, plain: bytes) -> bytes: ...

    def open(self, label: str, blob: bytes) -> bytes: ...


class AeadSealer:
    """AES-256-GCM with the record's label as associated data (records cannot be swapped)."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise LedgerError("the ledger key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, label: str, plain: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, label.encode())

    def open(self, label: str, blob: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], label.encode())
        except InvalidTag:
            raise LedgerError("a release-ledger record does not verify: the file is damaged "
                              "or was sealed with another data key") from None


@dataclass
class StoredRelease:
    release_id: int
    dimensions: tuple[Dimension, ...]
    membership: Membership
    suppressed: np.ndarray
    k: int
    measure: str = ""                 # numerator measure of a rate table, "" for counts
    reads: Reads | None = None        # what decides a unit's cell (None: recorded before Reads)

    @property
    def figures(self) -> TableFigures:
        if not hasattr(self, "_figures"):
            self._figures = TableFigures(TableStructure(self.dimensions), self.membership)
        return self._figures

    def to_bytes(self) -> bytes:
        m = self.membership
        out = io.BytesIO()
        meta = {"units": UNITS, "dimensions": [d.to_json() for d in self.dimensions], "k": self.k,
                "measure": self.measure, "rate": m.flag is not None,
                "reads": self.reads.to_json() if self.reads is not None else None}
        np.savez_compressed(out, units=m.units, leaf=m.leaf,
                            flag=m.flag if m.flag is not None else np.zeros(0, bool),
                            suppressed=self.suppressed,
                            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
        return out.getvalue()

    @classmethod
    def from_bytes(cls, release_id: int, data: bytes) -> StoredRelease:
        z = np.load(io.BytesIO(data))
        meta = json.loads(bytes(z["meta"]).decode())
        if meta.get("units") != UNITS:
            raise LedgerError(
                f"release {release_id} of the release ledger counts persons per period (a ledger "
                "made before units were persons), so it cannot be related to new releases. Move "
                "the ledger file aside for the auditors and start the broker with a new one")
        flag = z["flag"] if meta["rate"] else None
        return cls(release_id, tuple(Dimension.from_json(d) for d in meta["dimensions"]),
                   Membership(z["units"], z["leaf"], flag), z["suppressed"], meta["k"],
                   meta["measure"], Reads.from_json(meta["reads"]) if meta.get("reads") else None)

    def hidden_and_published(self) -> tuple[set[int], set[int]]:
        figs = self.figures
        hidden = {int(h) for kind in figs.kinds() for h in figs.hashes[kind, self.suppressed]}
        shown = {int(h) for kind in figs.kinds() for h in figs.hashes[kind, ~self.suppressed]}
        return hidden - {EMPTY_SET}, shown - {EMPTY_SET}


@dataclass(frozen=True)
class LedgerView:
    """The ledger at one version: what an audit reads."""

    version: int
    releases: tuple[StoredRelease, ...]
    signatures: Signatures
    published: frozenset[int]
    hidden: frozenset[int]
    component: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Per unit of ``signatures``, its population: persons joined by the releases counting them."""

    def populations(self, units: np.ndarray) -> tuple[np.ndarray, bool]:
        """The labels of the populations of ``units``, and whether any is in no release."""
        known = self.signatures.units
        pos = np.minimum(np.searchsorted(known, units), max(len(known) - 1, 0))
        hits = known[pos] == units if len(known) else np.zeros(len(units), dtype=bool)
        return np.unique(self.component[pos[hits]]), not hits.all()

    def related(self, units: np.ndarray) -> tuple[list[StoredRelease], np.ndarray]:
        """The releases that share persons with ``units``, directly or through other releases,
        and which units of ``signatures`` they count: nothing else can tell anything about these
        persons or be told by them."""
        labels, _ = self.populations(units)
        releases = [r for r in self.releases if len(r.membership.units)
                    and self.component[self.signatures.positions(r.membership.units[:1])[0]] in labels]
        return releases, np.isin(self.component, labels)


class Waiting(Protocol):
    """A request waiting for a turn (``PersonLedger.waiting``)."""

    persons: np.ndarray
    finished: bool


W = TypeVar("W", bound=Waiting)


class PersonLedger:
    """The release ledger over persons (see the module docstring)."""

    def __init__(self, path: str | Path | None, sealer: Sealer, max_waiting: int | None = None):
        """``path`` None keeps the ledger in memory, for this process only. ``max_waiting``:
        requests that may wait for (or be in) an audit at once; more are told to retry
        (None: no limit)."""
        self.path = Path(path) if path is not None else None
        self.max_waiting = max_waiting
        self._sealer = sealer
        self._lock = threading.Lock()
        self._turns = threading.Condition()
        self._busy: list[frozenset[int]] = []     # the populations of the audits under way
        self._waiting: dict[object, frozenset[int]] = {}   # those of the audits waiting, in order
        self._pending: list[Waiting] = []         # requests waiting that an audit may take over
        if self.path is not None and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self._db = sqlite3.connect(self.path or ":memory:", timeout=60, isolation_level=None,
                                       check_same_thread=False)
            self._db.executescript(SCHEMA)
            rows = self._db.execute("SELECT id, blob FROM releases ORDER BY id").fetchall()
            answers = self._db.execute("SELECT fingerprint, blob FROM answers").fetchall()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"release ledger {self.path} is not readable ({exc}); restore it "
                              "from backup") from None
        releases = [StoredRelease.from_bytes(i, sealer.open(f"release:{i}", blob))
                    for i, blob in rows]
        self._answers = {f: sealer.open(f"answer:{f}", blob) for f, blob in answers}
        self._view = _extend(LedgerView(0, (), Signatures(), frozenset(), frozenset()), releases)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PersonLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def view(self) -> LedgerView:
        return self._view

    @contextmanager
    def turn(self, deadline: float | None = None, persons: np.ndarray | None = None,
             done: Callable[[], bool] | None = None) -> Iterator[bool]:
        """Audits of new tables on one population take turns: each sees the ledger as the
        previous one left it and commits, so none is redone because another commit made its
        view stale (running them side by side, 8 concurrent requesters waited up to 127 s).
        ``persons``: those the new tables count; an audit waits only for audits on the
        populations they belong to (persons not in the ledger yet are one population), None
        for every population. Identical requests are answered from the ledger without a turn.
        Turns on one population go in the order asked for (who waited longest goes first).
        Waiting counts towards ``deadline`` (``time.monotonic()``): past it, AuditUnfinished.
        Yields True with the turn, False when ``done()`` became true first (another audit took
        the request over and finished it, ``claim``)."""
        ticket = object()
        with self._turns:
            try:
                while True:
                    if done is not None and done():
                        took = False
                        break
                    if self._may_go(ticket, persons):
                        took = True
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise AuditUnfinished()
                    self._turns.wait(remaining)
            finally:
                mine = self._waiting.pop(ticket, frozenset())
                self._turns.notify_all()
            if took:
                self._busy.append(mine)
        try:
            yield took
        finally:
            if took:
                with self._turns:
                    self._busy.remove(mine)
                    self._turns.notify_all()

    def _may_go(self, ticket: object, persons: np.ndarray | None) -> bool:
        """Whether ``ticket`` may take its turn now (called with ``_turns`` held)."""
        mine = self._waiting[ticket] = self._populations(persons)
        ahead = itertools.takewhile(lambda t: t is not ticket, self._waiting)
        return not any(_overlap(mine, other) for other in self._busy) and \
            not any(_overlap(mine, self._waiting[t]) for t in ahead)

    @contextmanager
    def waiting(self, request: Waiting) -> Iterator[None]:
        """Lists ``request`` as waiting for a turn, so that an audit may take it over. Raises
        AuditUnfinished (retryable) when ``max_waiting`` requests wait already: a waiting
        request holds one of the server's threads, and the others must stay free."""
        with self._turns:
            if self.max_waiting is not None and len(self._pending) >= self.max_waiting:
                raise AuditUnfinished(
                    f"{len(self._pending)} requests are waiting for the audit against earlier releases, "
                    "as many as this broker serves at once: ask again in a minute (nothing was "
                    "released or recorded)")
            self._pending.append(request)
        try:
            yield
        finally:
            with self._turns:
                if request in self._pending:
                    self._pending.remove(request)

    def claim(self, leader: W, accept: Callable[[W], bool], limit: int) -> list[W]:
        """Takes over up to ``limit`` requests waiting (in the order they came) that ``accept``
        and whose populations the turn of ``leader`` (which must have it) covers; nobody else
        can take them. The caller must ``finish`` them."""
        with self._turns:
            covered = self._populations(leader.persons)
            taken = [r for r in cast("list[W]", self._pending) if r is not leader and accept(r)
                     and self._populations(r.persons) <= covered][:limit]
            for r in taken:
                self._pending.remove(r)
            return taken

    def finish(self, requests: Sequence[Waiting]) -> None:
        """Wakes the owners of requests taken over (``claim``) once their outcome is set."""
        with self._turns:
            for r in requests:
                r.finished = True
            self._turns.notify_all()

    def _populations(self, persons: np.ndarray | None) -> frozenset[int]:
        if persons is None:
            return frozenset({EVERY})
        labels, unseen = self._view.populations(persons)
        return frozenset({int(label) for label in labels} | ({UNSEEN} if unseen else set()))

    def answer(self, fingerprint: str) -> bytes | None:
        """The answer given before to an identical request, or None."""
        return self._answers.get(fingerprint)

    @property
    def release_count(self) -> int:
        return len(self._view.releases)

    def next_id(self, view: LedgerView) -> int:
        return view.version + 1

    def commit(self, view: LedgerView, drafts: Sequence[StoredRelease], fingerprint: str,
               answer: bytes) -> bool:
        """Records the drafts (numbered on from the last release) and the answer, unless a
        release sharing persons with the drafts' population in ``view`` came after it (then
        False: audit again against the new view)."""
        return self.commit_all(view, [(drafts, fingerprint, answer)])

    def commit_all(self, view: LedgerView,
                   requests: Sequence[tuple[Sequence[StoredRelease], str, bytes]]) -> bool:
        """``commit`` for the requests of one audit, (drafts, fingerprint, answer) each, in
        one transaction: all of them are recorded or none."""
        drafts = [d for request, _, _ in requests for d in request]
        with self._lock:
            if _came_between(view, self._view, drafts):
                return False
            for i, d in enumerate(drafts):
                d.release_id = self._view.version + 1 + i
            with immediate_transaction(self._db) as db:
                for d in drafts:
                    db.execute("INSERT INTO releases (id, blob) VALUES (?, ?)",
                               (d.release_id, self._sealer.seal(f"release:{d.release_id}",
                                                                d.to_bytes())))
                for _, fingerprint, answer in requests:
                    db.execute("INSERT OR REPLACE INTO answers (fingerprint, blob) VALUES (?, ?)",
                               (fingerprint, self._sealer.seal(f"answer:{fingerprint}", answer)))
            self._view = _extend(self._view, drafts)
            for _, fingerprint, answer in requests:
                self._answers[fingerprint] = answer
            return True


EVERY, UNSEEN = -1, -2
"""Populations of a turn beside the labels of ``LedgerView.component``: every population,
and the persons no release counts yet."""


def _overlap(one: frozenset[int], other: frozenset[int]) -> bool:
    return EVERY in one or EVERY in other or bool(one & other)


def _came_between(view: LedgerView, now: LedgerView, drafts: Sequence[StoredRelease]) -> bool:
    """Whether a release recorded after ``view`` counts persons of the drafts' population."""
    since = now.releases[len(view.releases):]
    if not since or not drafts:
        return False
    persons = persons_of(d.membership for d in drafts)
    _, counted = view.related(persons)
    population = np.union1d(view.signatures.units[counted], persons)
    return any(np.isin(r.membership.units, population).any() for r in since)


def _extend(view: LedgerView, releases: list[StoredRelease]) -> LedgerView:
    if not releases:
        return view
    signatures = view.signatures.copy()
    component = view.component
    published, hidden = set(view.published), set(view.hidden)
    for rel in releases:
        before = signatures.units
        signatures.add(rel.release_id, rel.membership)
        component = _join(component, before, signatures, rel.membership.units)
        h, p = rel.hidden_and_published()
        published |= p
        hidden |= h
    return LedgerView(releases[-1].release_id, view.releases + tuple(releases), signatures,
                      frozenset(published), frozenset(hidden - published), component)


def _join(component: np.ndarray, before: np.ndarray, signatures: Signatures,
          units: np.ndarray) -> np.ndarray:
    """The populations once a release counts ``units``: theirs become one (``before``: the
    units ``component`` was aligned with)."""
    out = np.full(len(signatures.units), -1, dtype=np.int64)
    out[signatures.positions(before)] = component
    if not len(units):
        return out
    mine = signatures.positions(np.unique(units))
    labels = np.unique(out[mine])
    labels = labels[labels >= 0]
    label = int(labels.min()) if len(labels) else int(out.max(initial=-1)) + 1
    out[np.isin(out, labels)] = label
    out[mine] = label
    return out
