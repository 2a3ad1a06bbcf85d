"""SQLite write transactions, the same way everywhere the project keeps state in SQLite
(broker metadata, audit log, release ledger)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; ``ROLLBACK`` on any exception, a failed commit included.

    IMMEDIATE takes the write lock at the start, so two writers never both read and then
    fail to upgrade (the connection must be in autocommit mode: ``isolation_level=None``).
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
