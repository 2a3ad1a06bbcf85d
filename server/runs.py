"""Linkage runs: link the current extract of every source into entity clusters.

A run is started by a run operator (``linkage run``) or, with ``auto_run``, by the broker
itself once every source has a current extract that no run has linked yet. One run at a
time, in a background thread of the broker. The run loads the extracts (decrypted into
memory), calls the matching engine (``linkage.matching.link``), and stores the clusters
sealed, together with parameters and aggregate quality figures. Clusters, record
references and scores never leave the broker. With ``clk_retention = "until-linked"`` (the
default) a completed run then deletes the CLKs and exact tokens of the extracts it linked
(:meth:`RunManager.delete_linked_clks`, recorded as ``clks_deleted``); a later run needs
fresh uploads of those sources (the same files are accepted again).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from linkage.auditlog import AuditLogError
from linkage.disclosure.person_keys import person_keys
from linkage.errors import LinkageError
from linkage.extract import ExtractHeader, replaced_tokens
from server import logs, metrics
from server.config import BrokerConfig
from server.dask_cluster import partitions
from server.events import Recorder
from server.keys import PERSON_KEYS, derived_key
from server.linkage_config import LinkageConfiguration
from linkage.origin import origin_groups
from server.quality import HISTORY_COLUMNS, run_quality
from server.storage import RunRecord, Store, utc_now

AUTOMATIC = "broker"


class RunError(LinkageError):
    """A run cannot start; the message says what is missing."""


class RunCancelled(Exception):
    """The broker is shutting down; the run stops without storing anything."""


@dataclass
class Progress:
    stage: str = "starting"
    fraction: float = 0.0
    done: bool = False


def encoded_set_from_table(source: str, table: pa.Table, clk_bits: int):
    """The matching engine's input for one extract, without copying the CLK buffer twice."""
    from linkage.matching import EncodedSet
    from linkage.matching.model import life_years

    header = ExtractHeader.from_metadata(table.schema.metadata)
    nbytes = clk_bits // 8
    column = table.column("clk").combine_chunks()
    clks = np.frombuffer(column.buffers()[1], dtype=np.uint8, count=len(column) * nbytes,
                         offset=column.offset * nbytes).reshape(len(column), nbytes)
    return EncodedSet(
        source=source,
        record_ids=table.column("record_id").to_pylist(),
        clks=clks,
        exact_tokens=table.column("exact_token").to_pylist(),
        fingerprint=header.fingerprint,
        replaced_tokens=replaced_tokens(table),
        life=life_years(source, {name: table.column(name) for name in table.column_names}),
    )


def quality_summary(quality: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a run's quality: the main figures and the SHA-256 of
    the full figures (which stay with the run), so that the log stays small and any later
    change to the stored figures shows."""
    canonical = json.dumps(quality, sort_keys=True, separators=(",", ":")).encode()
    return {
        "quality_sha256": hashlib.sha256(canonical).hexdigest(),
        "entities": quality.get("entities"),
        "links": {pair: figures.get("links") for pair, figures in quality.get("pairs", {}).items()},
        "linked_rate": {source: f.get("linked_rate") for source, f in quality.get("sources", {}).items()},
    }


class RunManager:
    def __init__(self, store: Store, recorder: Recorder, config: BrokerConfig,
                 linkage: LinkageConfiguration) -> None:
        self.store = store
        self.linkage = linkage
        self.recorder = recorder
        self.config = config
        self._lock = threading.Condition()
        self._progress: dict[str, Progress] = {}
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    # -- starting --------------------------------------------------------------------------

    def running(self) -> RunRecord | None:
        active = self.store.runs(limit=1, state="running")
        return active[0] if active else None

    def start(self, started_by: str, threshold: float | None = None) -> tuple[RunRecord, bool]:
        """Start a run over the current extracts; returns (run, started). While a run is in
        progress, returns that run and False."""
        with self._lock:
            active = self.running()
            if active is not None:
                return active, False
            if self._cancel.is_set():
                raise RunError("the broker is shutting down; start the run after it restarts")
            current = self.store.current_extracts()
            if len(current) < 2:
                have = ", ".join(sorted(current)) or "none"
                raise RunError(
                    f"a run needs current extracts of at least two sources; the broker has: {have}. "
                    "Upload the missing extracts first"
                )
            spent = sorted(s for s, record in current.items() if record.clks_deleted_at)
            if spent:
                raise RunError(
                    f"the CLKs of the current extract of {', '.join(spent)} were deleted once a run had "
                    "linked them (clk_retention \"until-linked\"); upload fresh extracts of these sources "
                    "(the same files are accepted again) before another run"
                )
            stale = sorted(s for s, record in current.items() if record.fingerprint != self.linkage.fingerprint)
            if stale:
                raise RunError(
                    f"the current extract of {', '.join(stale)} was encoded with another linkage "
                    "configuration than the broker's; upload a new extract encoded with the agreed one"
                )
            if threshold is not None:
                origin = "given"
            elif self.config.threshold is not None:
                threshold, origin = self.config.threshold, "configured"
            else:
                origin = "automatic"
            inputs = [
                {"source": source, "extract_id": record.extract_id, "record_count": record.record_count}
                for source, record in sorted(current.items())
            ]
            run = RunRecord(
                run_id=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8],
                state="running", started_at=utc_now(), started_by=started_by, inputs=inputs,
                parameters={"engine": "linkage.matching.link", "threshold": threshold,
                            "threshold_origin": origin, "clk_bits": self.config.clk_bits,
                            "sources": [item["source"] for item in inputs]},
            )
            self.recorder.run(run.run_id, {**run.parameters, "inputs": inputs}, {}, state="started",
                              started_by=started_by)
            self.store.create_run(run)
            self._progress[run.run_id] = Progress()
            self._thread = threading.Thread(target=self._execute, args=(run, threshold), name=f"run-{run.run_id}", daemon=True)
            self._thread.start()
            return run, True

    def maybe_auto_run(self) -> None:
        """With ``auto_run``: start a run when every source has a current extract not yet linked."""
        if not self.config.auto_run:
            return
        from linkage.sources import SOURCES

        current = self.store.current_extracts()
        if set(current) != set(SOURCES) or self.running() is not None:
            return
        latest = self.store.runs(limit=1)
        linked = {item["extract_id"] for item in latest[0].inputs} if latest else set()
        if {record.extract_id for record in current.values()} == linked and latest[0].state == "completed":
            return
        try:
            self.start(AUTOMATIC)
        except RunError as exc:
            logs.event("run.auto_skipped", reason=str(exc))

    # -- progress --------------------------------------------------------------------------

    def _report(self, run_id: str, stage: str, fraction: float, done: bool = False) -> None:
        if self._cancel.is_set() and not done:
            raise RunCancelled()
        with self._lock:
            progress = self._progress.setdefault(run_id, Progress())
            progress.stage, progress.fraction, progress.done = stage, max(0.0, min(1.0, fraction)), done
            self._lock.notify_all()

    def watch(self, run_id: str, poll_seconds: float = 1.0) -> Iterator[Progress]:
        """Progress snapshots until the run ends. Yields nothing for a run that is not
        running in this process (the caller reports its stored state)."""
        last: tuple | None = None
        while True:
            with self._lock:
                progress = self._progress.get(run_id)
                snapshot = Progress(progress.stage, progress.fraction, progress.done) if progress else None
            if snapshot is None:
                return
            key = (snapshot.stage, round(snapshot.fraction, 3), snapshot.done)
            if key != last:
                last = key
                yield snapshot
            if snapshot.done:
                return
            with self._lock:
                current = self._progress.get(run_id)
                if current is not None and (current.stage, round(current.fraction, 3), current.done) == last:
                    self._lock.wait(poll_seconds)

    # -- executing -------------------------------------------------------------------------

    def _execute(self, run: RunRecord, threshold: float | None) -> None:
        started = time.monotonic()
        try:
            clusters, result_threshold, origin, parameters, quality = self._link(run, threshold)
            self._report(run.run_id, "storing", 0.99)
            self.recorder.run(run.run_id, parameters, quality_summary(quality), state="completed",
                              seconds=round(time.monotonic() - started, 1))
            self.store.complete_run(run.run_id, clusters, result_threshold, origin, parameters, quality)
            metrics.RUN_SECONDS.labels("completed").observe(time.monotonic() - started)
            logs.event("run.completed", run_id=run.run_id, seconds=round(time.monotonic() - started, 1),
                       entities=quality.get("entities"))
            self.delete_linked_clks()
        except RunCancelled:
            self._end(run, "interrupted", "the broker shut down during the run; start a new run")
        except (LinkageError, MemoryError, OSError, ValueError) as exc:
            self._end(run, "failed", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a run must end in a recorded state
            self._end(run, "failed", f"internal error ({type(exc).__name__}); see the broker log")
            logs.event("run.crashed", run_id=run.run_id, error=repr(exc))
        finally:
            self._report(run.run_id, "finished", 1.0, done=True)

    def delete_linked_clks(self) -> None:
        """With ``clk_retention = "until-linked"``: delete the CLKs and exact tokens of every
        extract upload a completed run has linked, and record it. Idempotent; the retention
        sweep calls it too, so a deletion interrupted by a crash is completed later."""
        if self.config.clk_retention != "until-linked":
            return
        for run in self.store.runs(limit=1_000_000, state="completed"):
            dropped = self.store.drop_clks([item["extract_id"] for item in run.inputs], run.finished_at)
            if dropped:
                self.recorder.note("clks_deleted", run_id=run.run_id, extracts=dropped,
                                   clk_retention=self.config.clk_retention,
                                   reason="CLKs and exact tokens deleted once the run had linked them; "
                                          "clusters and payload kept")

    def _end(self, run: RunRecord, state: str, error: str) -> None:
        started = _dt.datetime.fromisoformat(run.started_at)
        metrics.RUN_SECONDS.labels(state).observe((_dt.datetime.now(_dt.timezone.utc) - started).total_seconds())
        try:
            self.recorder.run(run.run_id, run.parameters, {}, state=state, error=error)
        except AuditLogError as exc:
            logs.event("audit.unavailable", run_id=run.run_id, error=str(exc))
        self.store.end_run(run.run_id, state, error)
        logs.event(f"run.{state}", run_id=run.run_id, error=error)

    def _link(self, run: RunRecord, threshold: float | None):
        from linkage.matching import link

        sets, sources, payloads = [], [], {}
        for index, item in enumerate(run.inputs):
            self._report(run.run_id, f"loading {item['source']}", 0.05 * index / len(run.inputs))
            table = self.store.extract_table(item["extract_id"])
            sets.append(encoded_set_from_table(item["source"], table, self.config.clk_bits))
            sources.append(item["source"])
            if item["source"] == "ksz" and set(HISTORY_COLUMNS) <= set(table.column_names):
                payloads["ksz"] = table.select(list(HISTORY_COLUMNS))
            del table

        def progress(stage: str, fraction: float) -> None:
            self._report(run.run_id, f"linking: {stage}", 0.05 + 0.85 * fraction)

        # origin group per KSZ record, so that the recall estimated without truth is broken down
        strata = [origin_groups(payloads["ksz"].to_pydict(), _dt.date.today())
                  if source == "ksz" and "ksz" in payloads else None for source in sources]
        with partitions(self.config.dask) as (executor, limit):
            result = link(sets, threshold=threshold, progress=progress, strata=strata, executor=executor,
                          exhaustive_limit=limit)
        self._report(run.run_id, "quality figures", 0.92)
        groups = [np.asarray(g, dtype=np.int64) for g in result.group_ids]
        origin = run.parameters["threshold_origin"] if threshold is not None else result.threshold_origin
        keys = person_keys(derived_key(self.store._key, PERSON_KEYS), sources,
                           [s.record_ids for s in sets], [s.exact_tokens for s in sets], groups)
        clusters = pa.table({
            "source": pa.array(np.repeat(np.array(sources), [len(g) for g in groups]), pa.string()),
            "record_id": pa.array([rid for s in sets for rid in s.record_ids], pa.string()),
            "entity_id": pa.array(np.concatenate(groups), pa.int64()),
            # the same person in a later run gets the same key (release ledger, across runs)
            "person_key": pa.array(np.concatenate(keys), pa.uint64()),
        })
        quality = run_quality(sources, groups, result.quality, payloads, _dt.date.today())
        quality["entities"] = int(np.unique(np.concatenate(groups)).size)
        parameters = {**run.parameters, "threshold": float(result.threshold), "threshold_origin": origin,
                      "inputs": run.inputs}
        return clusters, float(result.threshold), origin, parameters, quality

    # -- stopping --------------------------------------------------------------------------

    def shutdown(self, timeout: float) -> None:
        """Ask a running run to stop (it is recorded as interrupted) and wait for it."""
        self._cancel.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
