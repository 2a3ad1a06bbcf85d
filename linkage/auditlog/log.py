"""The append-only audit log, stored in SQLite.

Tables: ``entries`` (leaf index -> canonical entry), ``nodes`` (the hash of every complete
perfect subtree, keyed by level and index; level 0 holds the leaf hashes) and
``tree_heads`` (every head the log has signed). An append writes its entry, its leaf hash
and the subtree hashes it completes (amortised two rows) in one transaction, so a crash
leaves the log either with or without the entry, never half of it. The root of any tree
size and every subtree a proof needs are folded from at most log2(n) stored hashes, so
roots and proofs cost O(log n) reads whatever the size of the log.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from linkage.auditlog import proofs
from linkage.auditlog.entries import encode_entry
from linkage.auditlog.errors import AuditLogError
from linkage.auditlog.hashing import EMPTY_ROOT, CompactRange, fold_right, hash_leaf, perfect_subtrees
from linkage.auditlog.keys import log_id
from linkage.auditlog.tree_head import SignedTreeHead, sign_tree_head
from linkage.sqlite import immediate_transaction

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_heads (
    tree_size INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL,
    root_hash BLOB NOT NULL, signature BLOB NOT NULL
);
"""
_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb} ON {table}
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class AuditLog:
    """A Merkle-tree log (RFC 6962 hashing) with Ed25519-signed tree heads.

    Safe to share between threads; several processes may append to the same file (each
    append re-reads the size under SQLite's write lock).
    """

    def __init__(self, path: str | Path, signing_key: Ed25519PrivateKey,
                 durable: bool = True) -> None:
        """``durable=False`` skips the fsync per commit (SQLite ``synchronous=NORMAL``):
        still crash-safe, but a power cut may lose the last appends."""
        self.path = Path(path)
        self._key = signing_key
        self._log_id = log_id(signing_key.public_key())
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise AuditLogError(f"cannot open the audit log {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._create()
            self._frontier = self._load_frontier(self._stored_size())
        except sqlite3.Error as exc:
            self._db.close()
            raise AuditLogError(f"cannot open the audit log {self.path}: {exc}") from None
        except AuditLogError:
            self._db.close()
            raise

    def _create(self) -> None:
        self._db.executescript(_SCHEMA)  # idempotent; executescript commits by itself
        with self._transaction():
            for table in ("entries", "nodes", "tree_heads"):
                for verb in ("UPDATE", "DELETE"):
                    self._db.execute(_APPEND_ONLY.format(table=table, verb=verb))
            stored = dict(self._db.execute("SELECT key, value FROM meta"))
            if not stored:
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", SCHEMA_VERSION), ("log_id", self._log_id)],
                )
            elif stored.get("log_id") != self._log_id:
                raise AuditLogError(
                    f"the audit log {self.path} was created with a different signing key; "
                    "use its own log.key (a log's key never changes)"
                )
            elif stored.get("schema") != SCHEMA_VERSION:
                raise AuditLogError(
                    f"the audit log {self.path} has storage version {stored.get('schema')}; "
                    f"this program reads version {SCHEMA_VERSION}"
                )

    def _transaction(self):
        return immediate_transaction(self._db)

    def _stored_size(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()[0]

    def _node_hashes(self, nodes: list[tuple[int, int]]) -> list[bytes]:
        """One primary-key lookup per node: at most two per level of the tree."""
        hashes = []
        for node in nodes:
            row = self._db.execute(
                "SELECT hash FROM nodes WHERE level = ? AND idx = ?", node
            ).fetchone()
            if row is None:
                raise AuditLogError(
                    f"the audit log {self.path} lacks the stored hash of subtree {node} "
                    "(level, index): the database is damaged"
                )
            hashes.append(row[0])
        return hashes

    def _load_frontier(self, size: int) -> CompactRange:
        return CompactRange(size, self._node_hashes(perfect_subtrees(0, size)))

    def _subtree_hash(self, start: int, end: int) -> bytes:
        return fold_right(self._node_hashes(perfect_subtrees(start, end)))

    def _check_size(self, tree_size: int, what: str) -> None:
        size = self._stored_size()
        if not 0 <= tree_size <= size:
            raise AuditLogError(f"{what}: tree size {tree_size} is outside the log (size {size})")

    # -- writing ---------------------------------------------------------------------------

    def append(self, entry: Mapping[str, Any]) -> int:
        """Validate, timestamp and append one entry; return its leaf index."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Iterable[Mapping[str, Any]]) -> list[int]:
        """Append several entries in one transaction (all or none); return their indexes."""
        encoded = [encode_entry(entry) for entry in entries]
        with self._lock:
            try:
                with self._transaction():
                    size = self._stored_size()
                    if size != self._frontier.size:  # another process appended
                        self._frontier = self._load_frontier(size)
                    frontier = CompactRange(size, list(self._frontier.hashes))
                    nodes = []
                    for data in encoded:
                        nodes.extend(frontier.append(hash_leaf(data)))
                    self._db.executemany(
                        "INSERT INTO entries VALUES (?, ?)",
                        [(size + offset, data) for offset, data in enumerate(encoded)],
                    )
                    self._db.executemany("INSERT INTO nodes VALUES (?, ?, ?)", nodes)
            except sqlite3.Error as exc:
                raise AuditLogError(
                    f"could not append to the audit log {self.path} ({exc}); nothing was "
                    "written: retry, and check the disk and file permissions"
                ) from None
            self._frontier = frontier
        return list(range(size, size + len(encoded)))

    def signed_tree_head(self) -> SignedTreeHead:
        """A head signed for the current size; re-used while the log has not grown."""
        with self._lock, self._transaction():
            size = self._stored_size()
            row = self._db.execute(
                "SELECT timestamp, root_hash, signature FROM tree_heads WHERE tree_size = ?",
                (size,),
            ).fetchone()
            if row:
                return SignedTreeHead(size, row[1], row[0], row[2], self._log_id)
            head = sign_tree_head(self._key, size, self._subtree_hash(0, size) if size else EMPTY_ROOT)
            self._db.execute(
                "INSERT INTO tree_heads VALUES (?, ?, ?, ?)",
                (head.tree_size, head.timestamp, head.root_hash, head.signature),
            )
            return head

    # -- reading ---------------------------------------------------------------------------

    def size(self) -> int:
        with self._lock:
            return self._stored_size()

    def root_hash(self, tree_size: int | None = None) -> bytes:
        with self._lock:
            size = self._stored_size() if tree_size is None else tree_size
            self._check_size(size, "root hash")
            return self._subtree_hash(0, size) if size else EMPTY_ROOT

    def entries(self, start: int, end: int) -> list[bytes]:
        """Canonical encodings of entries ``start`` (inclusive) to ``end`` (exclusive)."""
        with self._lock:
            size = self._stored_size()
            if not 0 <= start <= end <= size:
                raise AuditLogError(
                    f"entries {start} to {end}: the range must lie within the log (size {size})"
                )
            rows = self._db.execute(
                "SELECT entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            )
            return [row[0] for row in rows]

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        with self._lock:
            self._check_size(tree_size, f"inclusion proof for entry {index}")
            return proofs.inclusion_proof(index, tree_size, self._subtree_hash)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        with self._lock:
            self._check_size(second, f"consistency proof from size {first}")
            return proofs.consistency_proof(first, second, self._subtree_hash)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
