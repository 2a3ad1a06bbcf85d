"""Audit-log figures: append rate, proof sizes and times, fetch and offline verification.

    .venv/bin/python bench/bench_auditlog.py            # a log of 1,000,000 entries
    BENCH_QUICK=1 .venv/bin/python bench/bench_auditlog.py   # 100,000 entries

Entries are realistic (all five types, validated and screened like in production). The
log is built with ``append_many`` in batches of 1,000 (one transaction each, tree heads
signed once per batch); single-entry appends are measured separately, with and without
an fsync per commit.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkage.auditlog import AuditLog, fetch_log, verify_folder  # noqa: E402
from linkage.auditlog.hashing import hash_leaf  # noqa: E402
from linkage.auditlog.proofs import verify_consistency, verify_inclusion  # noqa: E402
from tests.auditlog.samples import sample_entry  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SIZE = 100_000 if QUICK else 1_000_000
BATCH = 1000
SINGLE = 2000
PROOFS = 1000


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def single_appends(folder: Path, key: Ed25519PrivateKey, durable: bool) -> float:
    with AuditLog(folder / f"single-{durable}.db", key, durable=durable) as log:
        entries = [sample_entry(i) for i in range(SINGLE)]
        start = time.perf_counter()
        for entry in entries:
            log.append(entry)
        return time.perf_counter() - start


def build(log: AuditLog) -> tuple[float, float]:
    signing = 0.0
    start = time.perf_counter()
    for first in range(0, SIZE, BATCH):
        log.append_many(sample_entry(i) for i in range(first, min(SIZE, first + BATCH)))
        t = time.perf_counter()
        log.signed_tree_head()
        signing += time.perf_counter() - t
    return time.perf_counter() - start, signing


def proof_figures(log: AuditLog) -> None:
    rng = random.Random(7)
    head = log.signed_tree_head()
    indexes = [rng.randrange(SIZE) for _ in range(PROOFS)]
    leaves = {i: hash_leaf(log.entries(i, i + 1)[0]) for i in indexes}
    start = time.perf_counter()
    proofs = [log.inclusion_proof(i, SIZE) for i in indexes]
    made = time.perf_counter() - start
    start = time.perf_counter()
    for i, proof in zip(indexes, proofs):
        verify_inclusion(leaves[i], i, SIZE, proof, head.root_hash)
    checked = time.perf_counter() - start
    lengths = [len(p) for p in proofs]
    print(f"inclusion proof, tree of {SIZE:,}: {statistics.mean(lengths):.1f} hashes on average "
          f"(max {max(lengths)}, {max(lengths) * 32} bytes); "
          f"{made / PROOFS * 1e3:.2f} ms to make, {checked / PROOFS * 1e3:.3f} ms to verify")
    pairs = [sorted(rng.sample(range(1, SIZE + 1), 2)) for _ in range(PROOFS)]
    start = time.perf_counter()
    proofs = [log.consistency_proof(a, b) for a, b in pairs]
    made = time.perf_counter() - start
    roots = {}
    for a, b in pairs[:100]:
        roots[a], roots[b] = log.root_hash(a), log.root_hash(b)
    start = time.perf_counter()
    for (a, b), proof in zip(pairs[:100], proofs[:100]):
        verify_consistency(a, b, roots[a], roots[b], proof)
    checked = (time.perf_counter() - start) / 100
    lengths = [len(p) for p in proofs]
    print(f"consistency proof, random sizes up to {SIZE:,}: {statistics.mean(lengths):.1f} hashes "
          f"on average (max {max(lengths)}, {max(lengths) * 32} bytes); "
          f"{made / PROOFS * 1e3:.2f} ms to make, {checked * 1e3:.3f} ms to verify")
    start = time.perf_counter()
    for size in rng.sample(range(1, SIZE + 1), PROOFS):
        log.root_hash(size)
    print(f"root hash of an arbitrary tree size: {(time.perf_counter() - start) / PROOFS * 1e3:.2f} ms")


def main() -> None:
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="bench-auditlog-") as tmp:
        folder = Path(tmp)
        print(f"audit log benchmark ({'quick' if QUICK else 'full'}): {SIZE:,} entries")
        for durable in (True, False):
            seconds = single_appends(folder, key, durable)
            what = "fsync per commit" if durable else "no fsync (synchronous=NORMAL)"
            print(f"single appends, one transaction each, {what}: {rate(SINGLE, seconds)}")
        with AuditLog(folder / "audit.db", key) as log:
            seconds, signing = build(log)
            print(f"batched appends ({BATCH} per transaction, a signed tree head per batch): "
                  f"{rate(SIZE, seconds)} ({seconds:.1f} s for {SIZE:,}; signing {signing:.2f} s)")
            print(f"database size: {(folder / 'audit.db').stat().st_size / 2**20:,.0f} MiB")
            proof_figures(log)
            start = time.perf_counter()
            fetch_log(log, folder / "logdir", inclusion_sample=256)
            print(f"fetch into an offline folder: {time.perf_counter() - start:.1f} s")
        size = sum(p.stat().st_size for p in (folder / "logdir").iterdir())
        print(f"offline folder size: {size / 2**20:,.0f} MiB")
        start = time.perf_counter()
        report = verify_folder(folder / "logdir", key.public_key())
        seconds = time.perf_counter() - start
        assert report.ok, report.problems
        print(f"offline verification of {report.entries:,} entries (signatures, all roots, "
              f"{report.inclusion_proofs} inclusion proofs): {seconds:.1f} s "
              f"({rate(report.entries, seconds)})")


if __name__ == "__main__":
    main()
