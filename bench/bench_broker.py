"""Broker benchmark: upload throughput on loopback, and uploading and linking a population.

    .venv/bin/python bench/bench_broker.py            # full sizes (1,000,000 persons)
    BENCH_QUICK=1 .venv/bin/python bench/bench_broker.py

The broker runs as its own process (``linkage serve``) with real mutual TLS on 127.0.0.1;
the client is this process. Upload throughput is end to end: streaming, SHA-256 check,
validation, AES-GCM sealing and the database commit, until the signed receipt is back.
The population figure uses the synthetic generator and ``linkage encode`` (encoding is
provider-side and timed separately); the timed part is uploading the four extracts and
running the linkage until the clusters are stored.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from clients.broker_cmds import connect, start_run, upload_extract, watch_run  # noqa: E402
from linkage.auditlog import generate_log_keypair  # noqa: E402
from linkage.extract import Extract, ExtractHeader, write_extract  # noqa: E402
from linkage.sources import PAYLOAD_VERSION  # noqa: E402
from server.keys import generate_data_key
from linkage.signing_keys import generate_keypair  # noqa: E402
from server.pki import init_pki  # noqa: E402
from server.policy import example_policy  # noqa: E402
from server.process import BrokerProcess  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
THROUGHPUT_RECORDS = 50_000 if QUICK else 600_000
PERSONS = 20_000 if QUICK else 1_000_000
SOURCES = ("ksz", "vdab", "integration", "education")


def make_pki(directory: Path) -> None:
    init_pki(directory)
    generate_log_keypair(directory)
    generate_keypair(directory, "receipt")
    generate_data_key(directory / "data.key")
    (directory / "policy.toml").write_text(example_policy(("ksz", "vdab", "integration", "education", "statistics", "auditor")))


def random_extract(path: Path, records: int, seed: int) -> Path:
    """An ``education`` extract (small payload) of random CLKs: mostly CLK bytes, as real ones."""
    rng = np.random.default_rng(seed)
    clks = rng.integers(0, 256, size=(records, 128), dtype=np.uint8)
    payload = {
        "school_year": [2022] * records, "level": ["secondary"] * records, "track": ["ASO"] * records,
        "delay_years": [0] * records, "early_leaver": [None] * records,
    }
    header = ExtractHeader(source="education", fingerprint="sha256:bench", schema_fingerprint="bench",
                           normalisation_version="bench", clk_bits=1024, record_count=records,
                           created="2024-01-01T00:00:00+00:00", payload_version=PAYLOAD_VERSION,
                           payload_columns=tuple(payload))
    tokens = [rng.bytes(32) for _ in range(records)]
    write_extract(path, Extract(header, [f"e{seed}-{i}" for i in range(records)], clks, tokens, payload))
    return path


def memory_mib(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak so far) of a process, in MiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def bench_throughput(work: Path, pki: Path) -> None:
    broker = BrokerProcess(pki, pki / "policy.toml", work / "throughput-data")
    pid = broker.process.pid
    try:
        channel = connect(broker.address, pki, "education")
        for seed in (1, 2):
            path = random_extract(work / f"education-{seed}.parquet", THROUGHPUT_RECORDS, seed)
            size = path.stat().st_size
            before = memory_mib(pid, "VmRSS")
            started = time.perf_counter()
            result = upload_extract(channel, path)
            seconds = time.perf_counter() - started
            assert result.facts["record_count"] == THROUGHPUT_RECORDS
            peak = memory_mib(pid, "VmHWM")
            print(f"upload throughput: {size / 2**20:.1f} MiB ({THROUGHPUT_RECORDS:,} records) in "
                  f"{seconds:.2f} s = {size / 2**20 / seconds:.1f} MiB/s end to end (target >= 50 MB/s); "
                  f"broker memory {before:.0f} MiB before, peak {peak:.0f} MiB "
                  f"(+{peak - before:.0f} MiB = {(peak - before) / (size / 2**20):.1f} x the extract)")
        channel.close()
    finally:
        broker.terminate()


def encode_population(work: Path) -> dict[str, Path]:
    from linkage.encoding import encode_csv
    from linkage.synth import generate

    started = time.perf_counter()
    generate(PERSONS, 1, work / "synth")
    print(f"synthetic population of {PERSONS:,} persons generated in {time.perf_counter() - started:.1f} s")
    secret = os.urandom(32).hex().encode()
    extracts = {}
    for source in SOURCES:
        started = time.perf_counter()
        extract, _ = encode_csv(work / "synth" / f"{source}.csv", "belgian-v1", secret, source=source,
                                id_column="record_id", exact_column="insz", max_rejected=10**9)
        extracts[source] = work / f"{source}.parquet"
        write_extract(extracts[source], extract)
        print(f"  encoded {source}: {len(extract.record_ids):,} records, "
              f"{extracts[source].stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - started:.1f} s (provider side)")
    return extracts


def bench_population(work: Path, pki: Path) -> None:
    try:
        extracts = encode_population(work)
    except ImportError as exc:
        print(f"population benchmark skipped: {exc} (needs linkage.synth and linkage.encoding)")
        return
    broker = BrokerProcess(pki, pki / "policy.toml", work / "population-data")
    try:
        started = time.perf_counter()
        for source, path in extracts.items():
            with connect(broker.address, pki, source) as channel:
                upload_extract(channel, path)
        uploaded = time.perf_counter()
        with connect(broker.address, pki, "statistics") as channel:
            run = watch_run(channel, start_run(channel).run_id)
        finished = time.perf_counter()
        if run.state != 2:
            print(f"run failed: {run.error}")
            return
        records = sum(i.record_count for i in run.inputs)
        print(f"population of {PERSONS:,} persons ({records:,} records in 4 extracts): upload "
              f"{uploaded - started:.1f} s + link {finished - uploaded:.1f} s = {finished - started:.1f} s "
              f"(target < 180 s); {run.entity_count:,} entities, threshold {run.threshold:.3f} ({run.threshold_origin})")
    finally:
        broker.terminate(120)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as folder:
        work = Path(folder)
        pki = work / "pki"
        make_pki(pki)
        print(f"bench_broker ({'quick' if QUICK else 'full'} sizes), broker as a separate process on loopback, mutual TLS")
        bench_throughput(work, pki)
        bench_population(work, pki)


if __name__ == "__main__":
    main()
