"""Encoding blocks of the CSV in parallel, in order, without ever hanging.

clkhash's own multiprocessing hangs for good when one row is invalid (a worker dies and
the parent waits on its queue). We never use it: our workers get blocks of whole records
(:class:`~linkage.encoding.csvinput.Block`), parse them, validate every row before hashing
(:class:`~linkage.encoding.rows.RowEncoder`), report bad rows as data, and the parent waits
for each block with a timeout, after which the pool is killed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Iterable, Iterator

from linkage.encoding.csvinput import Block, rows_in
from linkage.encoding.rows import EncoderConfig, RowEncoder
from linkage.encoding.summary import ChunkResult
from linkage.errors import LinkageError

CHUNK_TIMEOUT_S = 600.0
"""Far above what a block takes (well under a second); reaching it means a worker is stuck."""


MAX_DEFAULT_WORKERS = 4
"""Beyond this the reading process, which cuts the file and collects the results, is the
bottleneck (it uses about a tenth of what one worker uses)."""


def default_workers() -> int:
    """The cores this process may use, at most :data:`MAX_DEFAULT_WORKERS`; 1 where processes
    cannot be forked (Windows)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


class WorkerError(LinkageError, RuntimeError):
    """A worker process failed or did not answer in time."""


_worker: RowEncoder | None = None
_worker_failure: BaseException | None = None


def _start_worker(config: EncoderConfig) -> None:
    global _worker, _worker_failure
    try:
        _worker = RowEncoder(config)
    except BaseException as exc:  # noqa: BLE001 - reported with the first chunk instead of a respawn loop
        _worker_failure = exc


def _encode_in_worker(block: Block) -> ChunkResult:
    if _worker is None:
        raise WorkerError(f"a worker could not start: {_worker_failure}")
    return _worker.encode(rows_in(block))


def encode_chunks(
    encoder: RowEncoder,
    blocks: Iterable[Block],
    workers: int,
    timeout_s: float = CHUNK_TIMEOUT_S,
) -> Iterator[ChunkResult]:
    """Results of ``encoder.encode`` for the rows of each block, in input order.

    With one worker the main process parses and encodes. Otherwise ``workers`` processes each
    build their own encoder from the same configuration and parse the blocks they get (the
    main process only reads and cuts the file); at most two blocks per worker are in
    flight, so memory stays bounded. Workers are forked, not spawned: a spawned worker
    re-imports the caller's main module, which re-runs any script that calls
    ``encode_csv`` without an ``if __name__ == "__main__"`` guard. Fork before starting
    threads (the command line starts its progress bar only after the first chunk).
    """
    if workers <= 1:
        for block in blocks:
            yield encoder.encode(rows_in(block))
        return
    context = multiprocessing.get_context("fork")
    pool = context.Pool(workers, initializer=_start_worker, initargs=(encoder.config,))
    try:
        pending: deque = deque()
        for block in blocks:
            pending.append(pool.apply_async(_encode_in_worker, (block,)))
            if len(pending) >= 2 * workers:
                yield _result(pending.popleft(), timeout_s)
        while pending:
            yield _result(pending.popleft(), timeout_s)
        pool.close()
        pool.join()
    finally:
        pool.terminate()


def _result(async_result, timeout_s: float) -> ChunkResult:
    try:
        return async_result.get(timeout_s)
    except multiprocessing.TimeoutError:
        raise WorkerError(
            f"an encoding worker gave no result within {timeout_s:.0f} s; nothing was written. "
            "Run again with --workers 1 to encode in one process"
        ) from None
