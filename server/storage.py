"""The broker's storage: SQLite (WAL) for metadata, sealed files for bulk data.

Layout of the data directory (mode 0700)::

    broker.lock                 held (flock) by the one broker serving this directory
    broker.db                   metadata: extracts, runs (SQLite, WAL, synchronous=FULL)
    audit.db                    the audit log (linkage.auditlog)
    extracts/<sha256>.sealed    an accepted extract: the validated copy (Parquet), AES-256-GCM;
                                once a run has linked it, only record_id and payload remain
    runs/<run_id>.sealed        a run's entity clusters (Parquet: source, record_id, entity_id, person_key)
    incoming/<org>-<sha256>.part  an upload in progress (sealed records, resumable)

Visibility is decided by the database alone, and a row is written only after its file is
complete and durable (sealed to a temporary name, fsynced, renamed). A crash therefore
leaves at most an orphan file, which :meth:`Store.recover` removes at start-up, and runs
that were in progress, which it marks interrupted. Nothing half-written is ever visible.
Unfinished uploads expire: :meth:`Store.expire_partials` removes those idle for longer
than the configured time (at start-up and periodically).

CLKs and exact tokens are personal data: :meth:`Store.drop_clks` rewrites a linked extract
without them (record references and payload stay for the tables), and the row records
when (``clks_deleted_at``). A later run needs fresh uploads of such sources.

For the aggregate step: :meth:`Store.load_run_inputs` returns a completed run's clusters
and the payload of each extract it linked, decrypted into memory as Arrow tables.
"""

from __future__ import annotations

import datetime as _dt
import contextlib
import errno
import fcntl
import json
import os
import time
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.extract import REPLACED_TOKEN
from linkage.files import fsync_dir
from linkage.errors import LinkageError
from linkage.sqlite import immediate_transaction
from server import sealed

SCHEMA_VERSION = "1"
_ENCODINGS = ("clk", "exact_token", REPLACED_TOKEN)
_KEY_CHECK = b"linkage broker data key check"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS extracts (
    extract_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    organisation TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    clk_bits INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    created TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('current', 'superseded', 'deleted')),
    superseded_at TEXT,
    receipt_statement BLOB NOT NULL,
    receipt_signature BLOB NOT NULL,
    clks_deleted_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_current_extract ON extracts (source) WHERE state = 'current';
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'interrupted', 'deleted')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    started_by TEXT NOT NULL,
    inputs TEXT NOT NULL,
    threshold REAL,
    threshold_origin TEXT,
    entity_count INTEGER,
    parameters TEXT NOT NULL,
    quality TEXT,
    error TEXT
);
"""


class StorageError(LinkageError):
    """The data directory is unusable, or a stored object is missing or damaged."""


def _lock_directory(root: Path):
    """Hold ``broker.lock`` for the lifetime of the store: a second broker on the same
    directory would run its start-up clean-up against the first one's files."""
    handle = open(root / "broker.lock", "a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise StorageError(
                f"the data directory {root} is in use by another broker (it holds {root / 'broker.lock'}); "
                "stop that one first, or give this one its own --data-dir"
            ) from None
        raise StorageError(f"cannot lock the data directory {root} ({exc.strerror})") from None
    return handle


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ExtractRecord:
    extract_id: str
    source: str
    organisation: str
    record_count: int
    size_bytes: int
    clk_bits: int
    fingerprint: str
    created: str
    received_at: str
    state: str
    receipt_statement: bytes
    receipt_signature: bytes
    superseded_at: str | None = None
    clks_deleted_at: str | None = None


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    state: str
    started_at: str
    started_by: str
    inputs: list[dict[str, Any]]
    parameters: dict[str, Any]
    finished_at: str | None = None
    threshold: float | None = None
    threshold_origin: str | None = None
    entity_count: int | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _extract(row: sqlite3.Row) -> ExtractRecord:
    return ExtractRecord(**{key: row[key] for key in row.keys()})


def _run(row: sqlite3.Row) -> RunRecord:
    values = {key: row[key] for key in row.keys()}
    values["inputs"] = json.loads(values["inputs"])
    values["parameters"] = json.loads(values["parameters"])
    values["quality"] = json.loads(values["quality"]) if values["quality"] else {}
    return RunRecord(**values)


class Store:
    """Metadata and sealed bulk data in one data directory. Safe to share between threads."""

    def __init__(self, data_dir: str | Path, key: bytes) -> None:
        self.root = Path(data_dir)
        self._key = key
        for folder in (self.root, self.root / "extracts", self.root / "runs", self.root / "incoming"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self._lock_file = _lock_directory(self.root)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.root / "broker.db", isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(extracts)")}
            if "clks_deleted_at" not in columns:
                self._db.execute("ALTER TABLE extracts ADD COLUMN clks_deleted_at TEXT")
        except sqlite3.Error as exc:
            self._lock_file.close()
            raise StorageError(f"cannot open the broker database in {self.root}: {exc}") from None
        try:
            self._check_key()
        except BaseException:
            self.close()
            raise

    @property
    def audit_log_path(self) -> Path:
        return self.root / "audit.db"

    def _check_key(self) -> None:
        """Refuse a data key other than the one the directory was created with."""
        aead = AESGCM(self._key)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'key_check'").fetchone()
        if row is None:
            nonce = os.urandom(12)
            with self._transaction():
                self._db.execute(
                    "INSERT INTO meta VALUES ('key_check', ?), ('schema', ?)",
                    (nonce + aead.encrypt(nonce, _KEY_CHECK, None), SCHEMA_VERSION),
                )
            return
        try:
            aead.decrypt(row[0][:12], row[0][12:], None)
        except InvalidTag:
            raise StorageError(
                f"the data key does not fit the data directory {self.root}: it was created with "
                "another key. Use that key (data_key_file or $LINKAGE_DATA_KEY)"
            ) from None

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the store's lock (threads take turns on one connection)."""
        with self._lock, immediate_transaction(self._db) as db:
            yield db

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._lock_file.close()

    # -- start-up --------------------------------------------------------------------------

    def recover(self) -> tuple[int, list[RunRecord]]:
        """Undo what a crash left: orphan and temporary files, runs that never ended.

        Returns the number of files removed and the runs now marked interrupted.
        """
        removed = 0
        with self._lock:
            known_extracts = {
                row[0] for row in self._db.execute("SELECT extract_id FROM extracts WHERE state != 'deleted'")
            }
            known_runs = {
                row[0] for row in self._db.execute("SELECT run_id FROM runs WHERE state = 'completed'")
            }
            for folder, known in (("extracts", known_extracts), ("runs", known_runs)):
                for path in (self.root / folder).iterdir():
                    if path.name.endswith(".sealed") and path.name[: -len(".sealed")] in known:
                        continue
                    path.unlink()
                    removed += 1
            running = self.runs(limit=1_000_000, state="running")
            for run in running:
                self.end_run(run.run_id, "interrupted", "the broker stopped during the run; start a new run")
        return removed, [self.run(run.run_id) for run in running]

    # -- uploads ---------------------------------------------------------------------------

    def partial_path(self, organisation: str, extract_id: str) -> Path:
        return self.root / "incoming" / f"{organisation}-{extract_id}.part"

    def partial(self, organisation: str, extract_id: str) -> sealed.GrowingFile:
        """The resumable upload of ``extract_id`` by ``organisation``, sealed under the label
        of the extract it becomes (see :meth:`sealing_extract`)."""
        return sealed.GrowingFile(self.partial_path(organisation, extract_id), self._key, f"extract:{extract_id}")

    def partial_bytes(self, organisation: str, extract_id: str) -> int:
        """How much of an upload the broker holds (read-only; an upload may be running)."""
        return sealed.held_bytes(self.partial_path(organisation, extract_id), self._key, f"extract:{extract_id}")

    def expire_partials(self, max_idle_seconds: float, now: float | None = None) -> list[str]:
        """Remove unfinished uploads that received nothing for ``max_idle_seconds``;
        returns their file names (``<org>-<sha256>.part``)."""
        cutoff = (time.time() if now is None else now) - max_idle_seconds
        removed = []
        for path in (self.root / "incoming").glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path.name)
            except FileNotFoundError:
                continue
        return removed

    def partials(self, organisation: str) -> list[tuple[str, float]]:
        """The unfinished uploads of ``organisation`` as (extract id, time of the last data),
        the longest idle first."""
        held = []
        for path in (self.root / "incoming").glob(f"{organisation}-*.part"):
            owner, _, extract_id = path.stem.rpartition("-")
            if owner != organisation:  # "vdab-*" also matches the uploads of "vdab-west"
                continue
            with contextlib.suppress(FileNotFoundError):
                held.append((extract_id, path.stat().st_mtime))
        return sorted(held, key=lambda item: item[1])

    def extract(self, extract_id: str) -> ExtractRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM extracts WHERE extract_id = ?", (extract_id,)).fetchone()
        return _extract(row) if row else None

    def current_extracts(self) -> dict[str, ExtractRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM extracts WHERE state = 'current' ORDER BY source")
            return {row["source"]: _extract(row) for row in rows}

    def _extract_path(self, extract_id: str) -> Path:
        return self.root / "extracts" / f"{extract_id}.sealed"

    def _staged_path(self, extract_id: str) -> Path:
        return self.root / "extracts" / f"{extract_id}.staged"

    @contextlib.contextmanager
    def sealing_extract(self, extract_id: str) -> Iterator[sealed.SealWriter]:
        """A stream for the stored copy of an extract, sealed as it is written into a staged
        file (complete when the block ends, removed if it fails). It replaces nothing and is
        visible to nobody until :meth:`commit_extract`; :meth:`discard_staged` removes it, and
        so does :meth:`recover` after a crash."""
        with sealed.sealing(self._staged_path(extract_id), self._key, f"extract:{extract_id}") as writer:
            yield writer

    def discard_staged(self, extract_id: str) -> None:
        self._staged_path(extract_id).unlink(missing_ok=True)

    def commit_extract(self, record: ExtractRecord) -> None:
        """Make the staged extract ``record`` describes the current extract of its source: the
        file takes its place, then one transaction records it (the previous one becomes
        superseded). An extract whose CLKs were deleted is stored again whole (its provider
        uploaded the same file for a new run)."""
        target = self._extract_path(record.extract_id)
        os.replace(self._staged_path(record.extract_id), target)
        fsync_dir(target.parent)
        try:
            with self._transaction():
                self._db.execute(
                    "UPDATE extracts SET state = 'superseded', superseded_at = ? "
                    "WHERE source = ? AND state = 'current'",
                    (record.received_at, record.source),
                )
                values = {**record.__dict__, "state": "current", "superseded_at": None, "clks_deleted_at": None}
                columns = ", ".join(values)
                self._db.execute(
                    f"INSERT OR REPLACE INTO extracts ({columns}) VALUES ({', '.join('?' for _ in values)})",
                    list(values.values()),
                )
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def extract_bytes(self, extract_id: str) -> bytes:
        record = self.extract(extract_id)
        if record is None or record.state == "deleted":
            raise StorageError(f"extract {extract_id[:12]}… is not stored (deleted after its retention period?)")
        try:
            return sealed.unseal(self._extract_path(extract_id), self._key, f"extract:{extract_id}")
        except FileNotFoundError:
            raise StorageError(f"the file of extract {extract_id[:12]}… is missing from {self.root}") from None

    def extract_table(self, extract_id: str, columns: list[str] | None = None) -> pa.Table:
        """An extract decrypted into memory as an Arrow table (header in the schema metadata)."""
        return pq.read_table(pa.BufferReader(self.extract_bytes(extract_id)), columns=columns)

    # -- runs ------------------------------------------------------------------------------

    def _run_path(self, run_id: str) -> Path:
        return self.root / "runs" / f"{run_id}.sealed"

    def create_run(self, run: RunRecord) -> None:
        """Record a started run, unless another is running (then StorageError)."""
        with self._transaction():
            if self._db.execute("SELECT 1 FROM runs WHERE state = 'running'").fetchone():
                raise StorageError("another run is in progress")
            self._db.execute(
                "INSERT INTO runs (run_id, state, started_at, started_by, inputs, parameters) "
                "VALUES (?, 'running', ?, ?, ?, ?)",
                (run.run_id, run.started_at, run.started_by, json.dumps(run.inputs),
                 json.dumps(run.parameters, sort_keys=True)),
            )

    def complete_run(self, run_id: str, clusters: pa.Table, threshold: float, threshold_origin: str,
                     parameters: dict[str, Any], quality: dict[str, Any]) -> None:
        """Seal the clusters, then mark the run completed in one transaction."""
        sink = pa.BufferOutputStream()
        pq.write_table(clusters, sink, compression="zstd")
        sealed.seal(self._run_path(run_id), self._key, f"clusters:{run_id}", [sink.getvalue().to_pybytes()])
        entities = len(set(clusters.column("entity_id").to_numpy().tolist())) if clusters.num_rows else 0
        try:
            with self._transaction():
                updated = self._db.execute(
                    "UPDATE runs SET state = 'completed', finished_at = ?, threshold = ?, "
                    "threshold_origin = ?, entity_count = ?, parameters = ?, quality = ? "
                    "WHERE run_id = ? AND state = 'running'",
                    (utc_now(), threshold, threshold_origin, entities,
                     json.dumps(parameters, sort_keys=True), json.dumps(quality, sort_keys=True), run_id),
                ).rowcount
                if updated != 1:
                    raise StorageError(f"run {run_id} is no longer running")
        except BaseException:
            self._run_path(run_id).unlink(missing_ok=True)
            raise

    def end_run(self, run_id: str, state: str, error: str) -> None:
        """Mark a running run failed or interrupted (no clusters are kept)."""
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET state = ?, finished_at = ?, error = ? WHERE run_id = ? AND state = 'running'",
                (state, utc_now(), error, run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def runs(self, limit: int = 20, state: str | None = None) -> list[RunRecord]:
        query = "SELECT * FROM runs" + (" WHERE state = ?" if state else "") + " ORDER BY started_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (state, limit) if state else (limit,)).fetchall()
        return [_run(row) for row in rows]

    def clusters(self, run_id: str) -> pa.Table:
        """A completed run's clusters: one row per linked-or-not record (source, record_id,
        entity_id, and person_key in runs since person keys were added)."""
        run = self.run(run_id)
        if run is None or run.state != "completed":
            raise StorageError(f"run {run_id} has no clusters (state: {run.state if run else 'unknown'})")
        data = sealed.unseal(self._run_path(run_id), self._key, f"clusters:{run_id}")
        return pq.read_table(pa.BufferReader(data))

    def load_run_inputs(self, run_id: str | None = None) -> tuple[pa.Table, dict[str, pa.Table]]:
        """The clusters of a completed run (the latest when ``run_id`` is None) and, per
        source, the payload of the extract it linked (``record_id`` plus the declared
        payload columns; no CLKs or tokens). Everything is decrypted into memory only."""
        if run_id is None:
            latest = self.runs(limit=1, state="completed")
            if not latest:
                raise StorageError("no completed linkage run yet: upload the extracts and start a run")
            run_id = latest[0].run_id
        run = self.run(run_id)
        clusters = self.clusters(run_id)
        payloads = {}
        for item in run.inputs:
            table = self.extract_table(item["extract_id"])
            payloads[item["source"]] = table.drop_columns([n for n in _ENCODINGS if n in table.column_names])
        return clusters, payloads

    def drop_clks(self, extract_ids: list[str], linked_at: str) -> list[str]:
        """Rewrite extracts linked at ``linked_at`` without their CLKs and tokens
        (record references and payload stay); an extract uploaded again since keeps them.
        Returns the ids whose encodings were deleted now."""
        dropped = []
        for extract_id in extract_ids:
            record = self.extract(extract_id)
            if (record is None or record.state == "deleted" or record.clks_deleted_at
                    or record.received_at > linked_at):
                continue
            table = self.extract_table(extract_id)
            kept = table.drop_columns([name for name in _ENCODINGS if name in table.column_names])
            sink = pa.BufferOutputStream()
            pq.write_table(kept, sink, compression="zstd")
            sealed.seal(self._extract_path(extract_id), self._key, f"extract:{extract_id}",
                        [sink.getvalue().to_pybytes()])
            with self._transaction():
                self._db.execute("UPDATE extracts SET clks_deleted_at = ? WHERE extract_id = ?",
                                 (utc_now(), extract_id))
            dropped.append(extract_id)
        return dropped

    # -- retention -------------------------------------------------------------------------

    def apply_retention(self, days: float, now: _dt.datetime | None = None) -> list[str]:
        """Delete extracts superseded more than ``days`` ago, except those the latest
        completed run linked, and the clusters of runs that used a deleted extract.
        Returns the ids of the deleted extracts."""
        now = now or _dt.datetime.now(_dt.timezone.utc)
        cutoff = (now - _dt.timedelta(days=days)).isoformat(timespec="seconds")
        latest = self.runs(limit=1, state="completed")
        keep = {item["extract_id"] for item in latest[0].inputs} if latest else set()
        with self._lock:
            rows = self._db.execute(
                "SELECT extract_id FROM extracts WHERE state = 'superseded' AND superseded_at < ?", (cutoff,)
            ).fetchall()
            doomed = [row[0] for row in rows if row[0] not in keep]
            if not doomed:
                return []
            stale_runs = [
                run.run_id for run in self.runs(limit=1_000_000, state="completed")
                if any(item["extract_id"] in doomed for item in run.inputs)
            ]
            with self._transaction():
                self._db.executemany(
                    "UPDATE extracts SET state = 'deleted' WHERE extract_id = ?", [(i,) for i in doomed]
                )
                self._db.executemany(
                    "UPDATE runs SET state = 'deleted' WHERE run_id = ?", [(i,) for i in stale_runs]
                )
        for extract_id in doomed:
            self._extract_path(extract_id).unlink(missing_ok=True)
        for run_id in stale_runs:
            self._run_path(run_id).unlink(missing_ok=True)
        return doomed
