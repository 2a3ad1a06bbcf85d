"""The release ledger under load (issue 21, step 1): N concurrent requesters over M releases.

    .venv/bin/python bench/bench_ledger_load.py                 # quick: 8 requesters, 60 releases
    BENCH_LEDGER_FULL=1 .venv/bin/python bench/bench_ledger_load.py   # 50 requesters, 10,000 releases
    BENCH_REQUESTERS=20 BENCH_RELEASES=500 .venv/bin/python bench/bench_ledger_load.py

The broker runs as its own process (``linkage serve``, mutual TLS on 127.0.0.1); the four
providers upload extracts of a synthetic population and the operator links them. Then:

1. **Fill**: one requester asks M distinct tables in turn (mixed populations, measures, origin
   definitions and groupings, band sets, geography, periods, reference dates), so the ledger
   holds M releases; the latency of each tenth is printed as the ledger grows.
2. **Load**: N requesters, each its own organisation and channel, start together; each asks R
   tables, alternately a new distinct one and a repeat of a table asked in the fill. Printed:
   p50/p95/p99 latency and throughput, for new and repeated tables apart, refusals, errors,
   and how much the ledger grew (a repeat should add nothing).

Two latencies: of each **call** (a call waits for its table's audit ``answer_wait_seconds`` at
most, then is told to ask again while the audit goes on), and the **time to the table**, from
the first call to the answer, asking again as ``linkage aggregate`` does. Both end to end, as a
requester sees them: request, authorisation, computation, joint audit, ledger commit, audit log,
answer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from clients.aggregate_cmd import StillAuditing, call_aggregate  # noqa: E402
from clients.broker_cmds import BrokerCallError, connect, start_run, upload_extract, watch_run  # noqa: E402
from linkage.aggregate.request import validate_request  # noqa: E402
from linkage.aggregate.truth import truth_linked_data  # noqa: E402
from linkage.synth import generate  # noqa: E402
from server.process import BrokerProcess  # noqa: E402
from server.statistics import LEDGER_FILE  # noqa: E402

from tests.attack.broker import make_pki, write_extracts  # noqa: E402

FULL = bool(os.environ.get("BENCH_LEDGER_FULL"))
REQUESTERS = int(os.environ.get("BENCH_REQUESTERS", 50 if FULL else 8))
RELEASES = int(os.environ.get("BENCH_RELEASES", 10_000 if FULL else 60))
REQUESTS_EACH = int(os.environ.get("BENCH_REQUESTS_EACH", 4))
PERSONS = int(os.environ.get("BENCH_PERSONS", 20_000 if FULL else 3_000))
SEED = 7_121
CALL_TIMEOUT = 600.0
TABLE_TIMEOUT = 3600.0

TABLES = (("ksz", ("persons",)), ("ksz", ("employment_rate",)), ("ksz", ("persons", "employment_rate")),
          ("vdab", ("persons",)), ("vdab", ("outflow_to_work_12m",)),
          ("integration", ("persons",)), ("integration", ("integration_completion_rate",)))
ORIGINS = ("origin_group:sem", "origin_group:sem:belgian_eu_noneu", "origin_group:sem:eu15",
           "origin_category:sem", "origin_group:statbel:sem_regions")
OTHERS = ((), ("sex",), ("age_band:broad",), ("sex", "age_band:broad"), ("age_band:ten_year",),
          ("province",), ("sex", "province"))
PERIODS = (2021, 2022, 2023)


def distinct_requests():
    """Distinct tables without end: every combination, then again on earlier reference dates."""
    for days in itertools.count():
        reference = dt.date(2024, 12, 31) - dt.timedelta(days=days)
        for (population, measures), origin, others, period in itertools.product(TABLES, ORIGINS, OTHERS, PERIODS):
            yield {"population": population, "period": period, "measures": list(measures),
                   "dimensions": [origin, *others], "reference_date": reference}


@dataclass
class Timings:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {"new": [], "repeat": []})
    """Time to the table (or the refusal), per kind of request."""
    calls: list[float] = field(default_factory=list)
    """Every call's latency, those told to ask again included."""
    refused: int = 0
    asked_again: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, channel, requester: str, body: dict, kind: str) -> None:
        request = validate_request({"authorisation": f"AUTH-{requester}", **body})
        started = time.perf_counter()
        calls, outcome = [], None
        while time.perf_counter() - started < TABLE_TIMEOUT:
            call = time.perf_counter()
            try:
                call_aggregate(channel, request, timeout=CALL_TIMEOUT)
                outcome = None
            except StillAuditing as waiting:
                calls.append(time.perf_counter() - call)
                outcome = waiting.details
                time.sleep(waiting.retry_after)
                continue
            except BrokerCallError as exc:
                outcome = "refused" if "cannot be released safely" in str(exc) else str(exc)
            calls.append(time.perf_counter() - call)
            break
        elapsed = time.perf_counter() - started
        with self.lock:
            self.seconds[kind].append(elapsed)
            self.calls += calls
            self.asked_again += len(calls) > 1
            if outcome == "refused":
                self.refused += 1
            elif outcome:
                self.errors.append(outcome)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, p99 {p99:.2f} s, max {max(values):.2f} s ({len(values)})"


def link(broker: BrokerProcess, pki: Path, work: Path) -> None:
    generate(PERSONS, SEED, work / "synth")
    for path in write_extracts(truth_linked_data(work / "synth"), work / "extracts", SEED, tokened=0.8):
        with connect(broker.address, pki, path.stem) as channel:
            upload_extract(channel, path)
    with connect(broker.address, pki, "operator") as channel:
        run = watch_run(channel, start_run(channel).run_id)
    if run.state != 2:
        raise SystemExit(f"the linkage run failed: {run.error}")


def fill(broker: BrokerProcess, pki: Path, requests, requester: str) -> list[dict]:
    timings, asked = Timings(), []
    started = time.perf_counter()
    with connect(broker.address, pki, requester) as channel:
        for i in range(RELEASES):
            body = next(requests)
            timings.ask(channel, requester, body, "new")
            asked.append(body)
            if (i + 1) % max(RELEASES // 10, 1) == 0:
                recent = timings.seconds["new"][-max(RELEASES // 10, 1):]
                print(f"  fill: {i + 1:>6,} tables asked, the last {len(recent)}: mean {np.mean(recent):.2f} s, "
                      f"max {max(recent):.2f} s ({time.perf_counter() - started:.0f} s so far)", flush=True)
    print(f"fill: {RELEASES:,} tables in {time.perf_counter() - started:.0f} s; "
          f"{timings.refused} refused, {len(timings.errors)} errors")
    for error in sorted(set(timings.errors))[:3]:
        print(f"  error: {error}")
    return asked


def load(broker: BrokerProcess, pki: Path, requests, asked: list[dict], requesters: list[str]) -> Timings:
    timings = Timings()
    work = [[(next(requests), "new") if j % 2 == 0 else (asked[(i * REQUESTS_EACH + j) % len(asked)], "repeat")
             for j in range(REQUESTS_EACH)] for i in range(len(requesters))]
    barrier = threading.Barrier(len(requesters))

    def requester(i: int) -> None:
        with connect(broker.address, pki, requesters[i]) as channel:
            barrier.wait()
            for body, kind in work[i]:
                timings.ask(channel, requesters[i], body, kind)

    threads = [threading.Thread(target=requester, args=(i,)) for i in range(len(requesters))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    total = sum(len(v) for v in timings.seconds.values())
    print(f"load: {len(requesters)} requesters x {REQUESTS_EACH} tables = {total} requests in {seconds:.1f} s "
          f"= {total / seconds:.2f} requests/s; {timings.refused} refused, {len(timings.errors)} errors; "
          f"{timings.asked_again} asked again while audited")
    print(f"  calls:    {_percentiles(timings.calls)}")
    everything = timings.seconds["new"] + timings.seconds["repeat"]
    print("  time to the table (first call to answer):")
    print(f"  all:      {_percentiles(everything)}")
    print(f"  new:      {_percentiles(timings.seconds['new'])}")
    print(f"  repeated: {_percentiles(timings.seconds['repeat'])}")
    for error in sorted(set(timings.errors))[:3]:
        print(f"  error: {error}")
    return timings


def main() -> None:
    requesters = [f"requester-{i:02d}" for i in range(REQUESTERS)]
    print(f"bench_ledger_load: {REQUESTERS} requesters over a ledger of {RELEASES:,} releases, "
          f"{PERSONS:,} persons; broker as its own process, mutual TLS on loopback")
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        work = Path(folder)
        pki = make_pki(work / "pki", ["filler", *requesters])
        broker = BrokerProcess(pki, pki / "policy.toml", work / "data")
        try:
            started = time.perf_counter()
            link(broker, pki, work)
            print(f"linked {PERSONS:,} persons in {time.perf_counter() - started:.0f} s")
            requests = distinct_requests()
            asked = fill(broker, pki, requests, "filler")
            ledger = work / "data" / LEDGER_FILE
            before = ledger.stat().st_size
            load(broker, pki, requests, asked, requesters)
            print(f"ledger: {before / 2**20:.1f} MiB after the fill, {ledger.stat().st_size / 2**20:.1f} MiB "
                  f"after the load ({REQUESTERS * ((REQUESTS_EACH + 1) // 2)} new tables, "
                  f"{REQUESTERS * (REQUESTS_EACH // 2)} repeats)")
        finally:
            broker.terminate(120)


if __name__ == "__main__":
    main()
