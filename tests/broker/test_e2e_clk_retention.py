"""CLKs are kept only while needed: once a run has linked them, nothing the broker holds at
rest (decrypted or not) still contains an encoding; real broker over mutual TLS."""

from __future__ import annotations

import json
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clients.broker_cmds import BrokerCallError, start_run, upload_extract
from server import sealed
from tests.broker.helpers import make_extract, population_bits

pytestmark = pytest.mark.timeout(120)
SIZES = {"ksz": 120, "vdab": 60}


def _upload_all(handle, channel, folder) -> dict[str, np.ndarray]:
    """Both sources uploaded; their CLKs as bytes per record."""
    people = population_bits(120, seed=3)
    clks = {}
    for index, (source, n) in enumerate(SIZES.items()):
        path = make_extract(folder / f"{source}.parquet", source, n, people=people, seed=index)
        upload_extract(channel(handle, source), path)
        clks[source] = pq.read_table(path).column("clk").to_pylist()
    return clks


def _run(handle, channel) -> str:
    run = start_run(channel(handle, "operator"))
    deadline = time.monotonic() + 60
    while handle.store.run(run.run_id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert handle.store.run(run.run_id).state == "completed", handle.store.run(run.run_id).error
    return run.run_id


def _held_at_rest(handle) -> list[bytes]:
    """Every file of the data directory, and every sealed one decrypted as well."""
    contents = []
    for path in sorted(handle.store.root.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        contents.append(raw)
        if raw.startswith(sealed.MAGIC) and path.parent.name == "extracts":
            plain = sealed.unseal(path, handle.store._key, f"extract:{path.stem}")
            table = pq.read_table(pa.BufferReader(plain))
            contents.append(plain)
            contents.append(b"".join(value for column in table.columns
                                     if pa.types.is_binary(column.type) or pa.types.is_fixed_size_binary(column.type)
                                     for value in column.to_pylist() if value))
    return contents


def _holds_any(contents: list[bytes], clks: dict) -> bool:
    return any(clk in blob for blob in contents for records in clks.values() for clk in records[:20])


def test_a_completed_run_deletes_the_clks_it_linked_and_says_so(start_broker, channel, tmp_path):
    handle = start_broker()
    clks = _upload_all(handle, channel, tmp_path)
    assert _holds_any(_held_at_rest(handle), clks)  # the check can see a CLK where there is one
    run_id = _run(handle, channel)
    deadline = time.monotonic() + 10
    while not all(handle.store.extract(e.extract_id).clks_deleted_at for e in handle.store.current_extracts().values()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not _holds_any(_held_at_rest(handle), clks)
    clusters, payloads = handle.store.load_run_inputs(run_id)  # what the tables need stays
    assert clusters.num_rows == sum(SIZES.values()) and payloads["vdab"].num_rows == SIZES["vdab"]
    entries = [json.loads(e) for e in handle.log.entries(0, handle.log.size())]
    [deleted] = [e for e in entries if e["type"] == "clks_deleted"]
    assert deleted["run_id"] == run_id and len(deleted["extracts"]) == 2
    with pytest.raises(BrokerCallError) as caught:  # a later run needs fresh uploads
        start_run(channel(handle, "operator"))
    assert "upload fresh extracts" in caught.value.details
    for source in SIZES:  # the same files are accepted again, and link again
        result = upload_extract(channel(handle, source), tmp_path / f"{source}.parquet")
        assert not result.receipt.duplicate
    assert _run(handle, channel) != run_id


def test_with_keep_the_clks_stay_for_a_second_run(start_broker, channel, tmp_path):
    handle = start_broker(clk_retention="keep")
    clks = _upload_all(handle, channel, tmp_path)
    first = _run(handle, channel)
    assert _holds_any(_held_at_rest(handle), clks)
    assert _run(handle, channel) != first
    entries = [json.loads(e) for e in handle.log.entries(0, handle.log.size())]
    assert not [e for e in entries if e["type"] == "clks_deleted"]
