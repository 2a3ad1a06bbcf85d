"""The release ledger: what has been released per data snapshot, for all requesters.

Rules (requesters are assumed to collude, so there is one ledger for everybody):

* a cell once published is published again with the same value;
* a cell once suppressed stays suppressed;
* a new table is audited together with every earlier release of the same snapshot and
  population (``protect`` does this; the ledger stores what it needs).

A cell is identified by its canonical key: population, measure, and the set of
(dimension, category) pairs with ``Total`` dimensions dropped. The ledger holds true
values, including those of suppressed cells, so that the joint audit can check earlier
unsafe cells: it is confidential broker state, stored with file mode 0600.

``session`` holds SQLite's write lock from reading the earlier releases until the new one
is recorded, so two concurrent requests are never audited against the same history.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np

from linkage.disclosure.audit import Block, Quantity
from linkage.disclosure.errors import LedgerError
from linkage.disclosure.person_ledger import AeadSealer, PersonLedger
from linkage.disclosure.result import RULES_VERSION
from linkage.disclosure.table import Dimension, TableStructure, canonical_key
from linkage.disclosure.topology import check_classifications, check_acyclic
from linkage.sqlite import immediate_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot TEXT NOT NULL,
    population TEXT NOT NULL,
    created TEXT NOT NULL,
    k INTEGER NOT NULL,
    rules_version TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS releases_by_snapshot ON releases (snapshot, population, id);
CREATE TABLE IF NOT EXISTS cells (
    snapshot TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER NOT NULL,
    published INTEGER NOT NULL,
    protected INTEGER NOT NULL,
    release_id INTEGER NOT NULL,
    PRIMARY KEY (snapshot, key)
);
"""


class ReleaseLedger:
    """SQLite file recording every released table, global across requesters."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()      # one connection, shared by a server's threads
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self._db = sqlite3.connect(self.path, timeout=120, isolation_level=None,
                                       check_same_thread=False)
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"release ledger {self.path} is not a readable SQLite ledger "
                              f"({exc}); restore it from backup") from None

    @cached_property
    def persons(self) -> PersonLedger:
        """Transitional, for callers that still hand a name-keyed ledger to the statistics
        service (``tests/attack/service.py``): a person ledger in memory, sealed with a key
        that is never stored, for the life of this object. The broker opens its own sealed
        ``PersonLedger`` on disk."""
        return PersonLedger(None, AeadSealer(os.urandom(32)))

    def close(self) -> None:
        if "persons" in self.__dict__:
            self.persons.close()
        self._db.close()

    def __enter__(self) -> ReleaseLedger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def session(self, snapshot: str, population: str):
        """A transaction over one snapshot and population; commits if the block succeeds.
        Threads of one process take turns; other processes wait on SQLite's write lock."""
        with self._lock, immediate_transaction(self._db) as db:
            yield _Session(db, snapshot, population)

    def releases(self, snapshot: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM releases WHERE snapshot = ?",
                                   (snapshot,)).fetchone()
        return int(row[0])


class _Session:
    def __init__(self, db: sqlite3.Connection, snapshot: str, population: str):
        self.db = db
        self.snapshot = snapshot
        self.population = population
        self._bodies = [json.loads(body) for (body,) in db.execute(
            "SELECT body FROM releases WHERE snapshot = ? AND population = ? ORDER BY id",
            (snapshot, population))]

    def prior_blocks(self, structure: TableStructure) -> tuple[list[Block], list[Quantity]]:
        """The earlier releases as attacker blocks, and their unsafe quantities."""
        dims_per_release = [[Dimension.from_json(d) for d in body["dimensions"]]
                            for body in self._bodies]
        check_classifications(dims_per_release + [list(structure.dimensions)])
        check_acyclic([[d.name for d in dims] for dims in dims_per_release]
                      + [list(structure.names)])
        blocks, quantities = [], []
        for bi, (body, dims) in enumerate(zip(self._bodies, dims_per_release)):
            st = TableStructure(dims)
            values = np.asarray(body["values"], dtype=np.int64)
            suppressed = np.zeros(st.n_cells, dtype=bool)
            suppressed[np.asarray(body["suppressed"], dtype=np.int64)] = True
            keys = [[canonical_key(self.population, m, st.names, st.key(c))
                     for c in range(st.n_cells)] for m in body["measures"]]
            blocks.append(Block(st, values, suppressed, keys))
            for terms, value, k, cell in body["quantities"]:
                quantities.append(Quantity(tuple(tuple(t) for t in terms), value, k, cell, bi))
        return blocks, quantities

    def statuses(self, keys: Sequence[Sequence[str]], values: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per cell: forced (every measure published before), stuck (some measure
        suppressed before) and stuck-and-protected (it was an unsafe cell)."""
        known = {key: (value, bool(pub), bool(prot)) for key, value, pub, prot in self.db.execute(
            "SELECT key, value, published, protected FROM cells WHERE snapshot = ?",
            (self.snapshot,))}
        n = len(keys[0])
        forced = np.ones(n, dtype=bool)
        stuck = np.zeros(n, dtype=bool)
        protected = np.zeros(n, dtype=bool)
        for m, measure_keys in enumerate(keys):
            for c, key in enumerate(measure_keys):
                entry = known.get(key)
                if entry is None:
                    forced[c] = False
                    continue
                value, published, prot = entry
                if value != int(values[m, c]):
                    raise LedgerError(
                        "a cell of this table has a different value than in an earlier release "
                        f"of snapshot {self.snapshot!r}: the data changed since; protect tables "
                        "of new data under a new snapshot id")
                if not published:
                    forced[c] = False
                    stuck[c] = True
                    protected[c] |= prot
        return forced, stuck, protected

    def record(self, structure: TableStructure, measures: Sequence[str], values: np.ndarray,
               suppressed: np.ndarray, primary: np.ndarray, quantities: Sequence[Quantity],
               k: int, keys: Sequence[Sequence[str]]) -> None:
        body = {
            "dimensions": structure.spec(),
            "measures": list(measures),
            "values": values.tolist(),
            "suppressed": np.flatnonzero(suppressed).tolist(),
            "quantities": [[list(map(list, q.terms)), q.value, q.k, q.cell] for q in quantities],
        }
        cur = self.db.execute(
            "INSERT INTO releases (snapshot, population, created, k, rules_version, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self.snapshot, self.population, datetime.now(timezone.utc).isoformat(), k,
             RULES_VERSION, json.dumps(body, separators=(",", ":"))))
        release_id = cur.lastrowid
        rows = [(self.snapshot, keys[m][c], int(values[m, c]), int(not suppressed[c]),
                 int(primary[c]), release_id)
                for m in range(len(measures)) for c in range(structure.n_cells)]
        self.db.executemany(
            "INSERT OR IGNORE INTO cells (snapshot, key, value, published, protected, release_id)"
            " VALUES (?, ?, ?, ?, ?, ?)", rows)
