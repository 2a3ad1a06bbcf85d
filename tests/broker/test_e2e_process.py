"""The broker as a process: killed during an upload or a run, stopped with SIGTERM.

After a kill and a restart nothing acknowledged is lost and nothing partial is visible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import threading
import time

import grpc
import pytest

from clients.aggregate_cmd import ask_broker
from clients.broker_cmds import BrokerCallError, broker_info, connect, start_run, upload_extract, watch_run
from linkage.aggregate.compute import LinkedData
from linkage.aggregate.request import validate_request
from linkage.aggregate.service import request_fingerprint
from linkage.disclosure import AeadSealer, PersonLedger
from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server.keys import LEDGER_SEAL, derived_key, load_data_key
from server.statistics import LEDGER_FILE
from server.storage import Store
from server.process import BrokerProcess
from tests.broker.helpers import make_extract, population_bits

pytestmark = pytest.mark.timeout(180)


def _manifest(path):
    content = path.read_bytes()
    return broker_pb2.ExtractManifest(source=path.stem, content_sha256=hashlib.sha256(content).hexdigest(),
                                      size_bytes=len(content))


def _begin(channel, path) -> broker_pb2.BeginUploadResponse:
    stub = broker_pb2_grpc.UploadServiceStub(channel)
    return stub.BeginUpload(broker_pb2.BeginUploadRequest(manifest=_manifest(path)), timeout=10)


class StalledUpload(threading.Thread):
    """Sends the first ``send`` bytes of an extract, then waits for ``release``."""

    def __init__(self, channel, path, send: int) -> None:
        super().__init__(daemon=True)
        self.channel, self.path, self.send = channel, path, send
        self.release = threading.Event()
        self.sent = threading.Event()
        self.result = None
        self.error = None

    def run(self) -> None:
        content = self.path.read_bytes()

        def messages():
            yield broker_pb2.UploadChunk(start=broker_pb2.UploadStart(manifest=_manifest(self.path), offset=0))
            for start in range(0, self.send, 32768):
                yield broker_pb2.UploadChunk(data=content[start:min(start + 32768, self.send)])
            self.sent.set()
            self.release.wait(60)
            for start in range(self.send, len(content), 32768):
                yield broker_pb2.UploadChunk(data=content[start:start + 32768])

        try:
            self.result = broker_pb2_grpc.UploadServiceStub(self.channel).Upload(messages(), timeout=90)
        except grpc.RpcError as exc:
            self.error = exc


def _wait_offset(channel, path, at_least: int) -> int:
    deadline = time.monotonic() + 20
    while (offset := _begin(channel, path).offset) < at_least:
        assert time.monotonic() < deadline, "the broker never held the bytes sent"
        time.sleep(0.05)
    return offset


def test_killed_during_an_upload(pki, tmp_path):
    data = tmp_path / "data"
    ksz = make_extract(tmp_path / "ksz.parquet", "ksz", 300)
    vdab = make_extract(tmp_path / "vdab.parquet", "vdab", 3000)
    broker = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        acknowledged = upload_extract(connect(broker.address, pki, "ksz"), ksz)
        vdab_channel = connect(broker.address, pki, "vdab")
        stalled = StalledUpload(vdab_channel, vdab, send=65536)
        stalled.start()
        assert stalled.sent.wait(20)
        _wait_offset(connect(broker.address, pki, "vdab"), vdab, 65536)
    finally:
        broker.kill()
    stalled.release.set()
    stalled.join(30)
    assert stalled.result is None

    store = Store(data, load_data_key(pki / "data.key"))
    assert set(store.current_extracts()) == {"ksz"}
    store.close()

    restarted = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        again = _begin(connect(restarted.address, pki, "ksz"), ksz)
        assert again.receipt.statement == acknowledged.receipt.statement
        assert _begin(connect(restarted.address, pki, "vdab"), vdab).offset == 65536
        result = upload_extract(connect(restarted.address, pki, "vdab"), vdab)
        assert result.resumed_from == 65536 and result.facts["record_count"] == 3000
    finally:
        assert restarted.terminate() == 0


def test_killed_during_a_run(pki, tmp_path):
    data = tmp_path / "data"
    people = population_bits(6000, seed=11)
    paths = {source: make_extract(tmp_path / f"{source}.parquet", source, n, people=people, seed=i)
             for i, (source, n) in enumerate({"ksz": 6000, "vdab": 4000, "education": 3000}.items())}
    broker = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        for source, path in paths.items():
            upload_extract(connect(broker.address, pki, source), path)
        operator = connect(broker.address, pki, "operator")
        run = start_run(operator)
        stub = broker_pb2_grpc.RunServiceStub(operator)
        for progress in stub.WatchRun(broker_pb2.GetRunRequest(run_id=run.run_id), timeout=60):
            if progress.stage.startswith("linking"):
                break
    finally:
        broker.kill()

    store = Store(data, load_data_key(pki / "data.key"))
    assert store.run(run.run_id).state == "running"  # as the crash left it, before recovery
    store.close()
    restarted = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        operator = connect(restarted.address, pki, "operator")
        interrupted = watch_run(operator, run.run_id)
        assert interrupted.state == broker_pb2.RUN_STATE_INTERRUPTED
        assert "start a new run" in interrupted.error
        assert list((data / "runs").iterdir()) == []
        finished = watch_run(operator, start_run(operator).run_id)
        assert finished.state == broker_pb2.RUN_STATE_COMPLETED
        assert [i.extract_id for i in finished.inputs] == [i.extract_id for i in run.inputs]
    finally:
        assert restarted.terminate() == 0
    events = restarted.events()
    assert any(e["event"] == "audit.run" and e.get("state") == "interrupted" for e in events)


def test_sigterm_lets_an_inflight_upload_finish(pki, tmp_path):
    vdab = make_extract(tmp_path / "vdab.parquet", "vdab", 2000)
    broker = BrokerProcess(pki, pki / "policy.toml", tmp_path / "data")
    channel = connect(broker.address, pki, "vdab")
    stalled = StalledUpload(channel, vdab, send=32768)
    stalled.start()
    assert stalled.sent.wait(20)
    _wait_offset(connect(broker.address, pki, "vdab"), vdab, 32768)
    broker.process.send_signal(signal.SIGTERM)
    broker.wait_for("broker.stopping")
    stalled.release.set()
    stalled.join(60)
    assert broker.process.wait(60) == 0
    assert stalled.error is None, stalled.error
    assert stalled.result.record_count == 2000
    store = Store(tmp_path / "data", load_data_key(pki / "data.key"))
    assert store.current_extracts()["vdab"].extract_id == stalled.result.extract_id
    assert any(e["event"] == "broker.stopped" for e in broker.events())


def test_sighup_reloads_the_policy(pki, tmp_path):
    config = tmp_path / "broker.toml"
    config.write_text("policy_poll_seconds = 3600.0\n")  # only the signal can reload it
    broker = BrokerProcess(pki, pki / "policy.toml", tmp_path / "data", "--config", str(config))
    try:
        policy = pki / "policy.toml"
        policy.write_text(policy.read_text().replace('auditors = ["auditor"]', 'auditors = ["auditor", "ksz"]'))
        broker.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not any(e.get("reason") == "reloaded on SIGHUP" for e in broker.events()):
            assert time.monotonic() < deadline, "SIGHUP did not reload the policy"
            time.sleep(0.05)
        assert "audit" in broker_info(connect(broker.address, pki, "ksz")).permissions
    finally:
        assert broker.terminate() == 0


def _requests(n: int):
    """Distinct persons tables of the KSZ population (another reference date each time)."""
    dimensions = (["sex"], ["age_band:broad"], ["sex", "age_band:broad"], ["origin_group:sem"])
    return [validate_request({"authorisation": "IVC-24-001", "population": "ksz", "period": 2022,
                              "measures": ["persons"], "dimensions": dimensions[i % len(dimensions)],
                              "reference_date": dt.date(2024, 12, 31) - dt.timedelta(days=i)})
            for i in range(n)]


def test_killed_while_answering_tables(pki, tmp_path):
    """kill -9 while requesters are being answered: every answer a requester received is in
    the release ledger after the restart (record, then answer), and the ledger opens."""
    data = tmp_path / "data"
    people = population_bits(3000, seed=5)
    broker = BrokerProcess(pki, pki / "policy.toml", data)
    answered, stop = [], threading.Event()
    try:
        for i, source in enumerate(("ksz", "vdab")):
            upload_extract(connect(broker.address, pki, source),
                           make_extract(tmp_path / f"{source}.parquet", source, 3000, people=people, seed=i))
        run = watch_run(connect(broker.address, pki, "operator"), start_run(connect(broker.address, pki, "operator")).run_id)
        assert run.state == broker_pb2.RUN_STATE_COMPLETED

        def requester() -> None:
            channel = connect(broker.address, pki, "statistics")
            for request in _requests(40):
                if stop.is_set():
                    return
                try:
                    ask_broker(channel, request, timeout=60)
                    answered.append(request)
                except BrokerCallError:
                    if stop.is_set():
                        return

        thread = threading.Thread(target=requester, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while len(answered) < 4:
            assert time.monotonic() < deadline and thread.is_alive(), "no answers from the broker"
            time.sleep(0.01)
    finally:
        stop.set()
        received = list(answered)
        broker.kill()
    thread.join(30)

    key = derived_key(load_data_key(pki / "data.key"), LEDGER_SEAL)
    with PersonLedger(data / LEDGER_FILE, AeadSealer(key)) as ledger:
        snapshot = LinkedData({}, run.run_id)
        missing = [r for r in received if ledger.answer(request_fingerprint(r, snapshot, 5)) is None]
    assert len(received) >= 4 and not missing
    restarted = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        again = ask_broker(connect(restarted.address, pki, "statistics"), received[0], timeout=60)
        assert again.run_id == run.run_id
    finally:
        assert restarted.terminate() == 0
