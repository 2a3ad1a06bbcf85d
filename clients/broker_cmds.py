"""Broker commands: ``serve``, ``upload``, ``run``, ``runs``, ``whoami``, ``receipt verify``.

The client functions (``connect``, ``upload_extract``, ``start_run``, ``watch_run``,
``list_runs``, ``broker_info``) and ``AuditClient`` (the audit log as a
``linkage.auditlog.LogSource``) are usable from Python as well (``deploy/demo.py``)::

    channel = connect("127.0.0.1:50051", "pki", "ksz")
    result = upload_extract(channel, "ksz.parquet")
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import grpc

from clients.connection import add_connection_args
from linkage.errors import LinkageError
from linkage.extract import read_header
from linkage.sources import IDENTIFIERS_ONLY
from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server.config import load_config
from linkage.signing_keys import load_public_key
from server.receipts import ReceiptError, verify_receipt
from server.tls import channel_credentials

CHUNK_BYTES = 1024 * 1024
RETRIES = 5
RECEIVE_LIMIT = 64 * 1024 * 1024
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
              grpc.StatusCode.CANCELLED)


class BrokerCallError(LinkageError):
    """The broker refused or could not complete a call; the message is the broker's reason."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


def _call(function: Callable, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except grpc.RpcError as exc:
        raise BrokerCallError(exc.code(), exc.details() or "no details") from None


# -- connecting ---------------------------------------------------------------------------

def connect(broker: str, tls_dir: str | Path, organisation: str) -> grpc.Channel:
    """A mutual-TLS channel to ``broker`` (HOST:PORT) as ``organisation``
    (``TLS_DIR/ORG.crt`` and ``ORG.key``, trusting ``TLS_DIR/ca.crt``)."""
    return grpc.secure_channel(
        broker, channel_credentials(tls_dir, organisation),
        options=[("grpc.max_receive_message_length", RECEIVE_LIMIT)],
    )


def broker_info(channel: grpc.Channel) -> broker_pb2.BrokerInfo:
    return _call(broker_pb2_grpc.BrokerServiceStub(channel).GetBrokerInfo, broker_pb2.GetBrokerInfoRequest())


# -- uploading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadResult:
    receipt: broker_pb2.UploadReceipt
    facts: dict
    """The verified receipt statement."""
    resumed_from: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunks(manifest: broker_pb2.ExtractManifest, path: Path, offset: int, chunk_bytes: int,
            progress: Callable[[int], None]) -> Iterator[broker_pb2.UploadChunk]:
    yield broker_pb2.UploadChunk(start=broker_pb2.UploadStart(manifest=manifest, offset=offset))
    with open(path, "rb") as handle:
        handle.seek(offset)
        sent = offset
        for block in iter(lambda: handle.read(chunk_bytes), b""):
            yield broker_pb2.UploadChunk(data=block)
            sent += len(block)
            progress(sent)


def upload_extract(channel: grpc.Channel, path: str | Path, *, receipt_key: str | Path | None = None,
                   chunk_bytes: int | None = None, retries: int = RETRIES,
                   progress: Callable[[int, int], None] | None = None) -> UploadResult:
    """Upload an extract file, resuming after broken connections; verify the receipt.

    The receipt is verified with ``receipt_key`` (the broker's ``receipt.pub``, obtained out
    of band) when given, else with the key the broker announces.
    """
    file = Path(path)
    header = read_header(file)
    if header.source == IDENTIFIERS_ONLY.name:
        raise LinkageError(f"{file.name} holds identifiers only (it was encoded without --source): the broker "
                           "needs the source's payload; encode again with --source NAME")
    size = file.stat().st_size
    manifest = broker_pb2.ExtractManifest(source=header.source, content_sha256=file_sha256(file), size_bytes=size)
    uploads = broker_pb2_grpc.UploadServiceStub(channel)
    info = broker_info(channel)
    public_key = (load_public_key(receipt_key) if receipt_key
                  else _pem_key(info.receipt_public_key))
    chunk = min(chunk_bytes or CHUNK_BYTES, info.max_chunk_bytes)
    report = progress or (lambda done, total: None)
    first_offset = None
    for attempt in range(retries + 1):
        try:
            begin = uploads.BeginUpload(broker_pb2.BeginUploadRequest(manifest=manifest))
            first_offset = begin.offset if first_offset is None else first_offset
            if begin.HasField("receipt"):
                receipt = begin.receipt
            else:
                report(begin.offset, size)
                receipt = uploads.Upload(_chunks(manifest, file, begin.offset, chunk, lambda n: report(n, size)))
            report(size, size)
            return UploadResult(receipt, verify_receipt(receipt.statement, receipt.signature, public_key),
                                first_offset or 0)
        except grpc.RpcError as exc:
            if exc.code() not in _RETRYABLE or attempt == retries:
                raise BrokerCallError(exc.code(), exc.details() or "no details") from None
            time.sleep(min(2 ** attempt, 10))
    raise AssertionError("unreachable")


def _pem_key(pem: bytes):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


def save_receipt(receipt: broker_pb2.UploadReceipt, path: Path) -> None:
    path.write_text(json.dumps({
        "statement": receipt.statement.decode(),
        "signature": base64.b64encode(receipt.signature).decode(),
    }, indent=2) + "\n")


def load_receipt(path: Path) -> tuple[bytes, bytes]:
    try:
        document = json.loads(path.read_text())
        return document["statement"].encode(), base64.b64decode(document["signature"], validate=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReceiptError(f"{path} is not a receipt file written by 'linkage upload' ({exc})") from None


# -- runs ---------------------------------------------------------------------------------

RUN_STATES = {value: name.removeprefix("RUN_STATE_").lower() for name, value in broker_pb2.RunState.items()}


def start_run(channel: grpc.Channel, threshold: float | None = None) -> broker_pb2.Run:
    request = broker_pb2.StartRunRequest()
    if threshold is not None:
        request.threshold = threshold
    return _call(broker_pb2_grpc.RunServiceStub(channel).StartRun, request)


def watch_run(channel: grpc.Channel, run_id: str,
              progress: Callable[[str, float], None] | None = None) -> broker_pb2.Run:
    """Follow a run until it ends; returns the finished run."""
    stub = broker_pb2_grpc.RunServiceStub(channel)
    final = None
    try:
        for message in stub.WatchRun(broker_pb2.GetRunRequest(run_id=run_id)):
            if progress:
                progress(message.stage, message.fraction)
            if message.HasField("run"):
                final = message.run
    except grpc.RpcError as exc:
        raise BrokerCallError(exc.code(), exc.details() or "no details") from None
    return final or get_run(channel, run_id)


def get_run(channel: grpc.Channel, run_id: str = "") -> broker_pb2.Run:
    return _call(broker_pb2_grpc.RunServiceStub(channel).GetRun, broker_pb2.GetRunRequest(run_id=run_id))


def list_runs(channel: grpc.Channel, limit: int = 20) -> list[broker_pb2.Run]:
    return list(_call(broker_pb2_grpc.RunServiceStub(channel).ListRuns, broker_pb2.ListRunsRequest(limit=limit)).runs)


def _pct(value: float | None) -> str:
    return "withheld" if value is None else f"{value:.1%}"


def run_summary(run: broker_pb2.Run) -> str:
    """A few lines a person can read: state, inputs, threshold, match rates."""
    lines = [f"run {run.run_id}: {RUN_STATES[run.state]} (started {run.started_at} by {run.started_by})"]
    for item in run.inputs:
        lines.append(f"  {item.source:<12} {item.record_count:>10} records  extract {item.extract_id[:12]}…")
    if run.error:
        lines.append(f"  error: {run.error}")
    if run.state != broker_pb2.RUN_STATE_COMPLETED:
        return "\n".join(lines)
    lines.append(f"  threshold {run.threshold:.3f} ({run.threshold_origin}); {run.entity_count} entities")
    quality = json.loads(run.quality_json or "{}")
    for source, figures in quality.get("sources", {}).items():
        lines.append(f"  {source:<12} linked to another source: {_pct(figures.get('linked_rate'))}")
    for pair, figures in quality.get("pairs", {}).items():
        rates = ", ".join(f"of {key.removeprefix('rate_of_')} {_pct(value)}"
                          for key, value in figures.items() if key.startswith("rate_of_"))
        lines.append(f"  {pair:<24} {figures.get('links') or 'withheld'} links ({rates})")
    for source, by_origin in quality.get("origin", {}).get("linked_to_ksz_by_origin", {}).items():
        parts = ", ".join(f"{category} {_pct(figures.get('linked_rate'))}" for category, figures in by_origin.items())
        lines.append(f"  share of KSZ records linked to {source}, by origin: {parts}")
    for pair, estimate in quality.get("estimated_recall", {}).items():
        if estimate.get("recall") is None:
            lines.append(f"  {pair:<24} no recall estimate ({estimate.get('reason', 'none')})")
            continue
        text = f"  {pair:<24} recall estimated without truth {estimate['recall']:.2%}"
        rates = {g: r for g, r in estimate.get("by_origin", {}).items() if r is not None}
        if rates:
            low, high = min(rates, key=rates.get), max(rates, key=rates.get)
            text += (f"; by origin of the {estimate['by_origin_of']} record " +
                     (f"{rates[low]:.2%} in every group" if rates[low] == rates[high] else
                      f"{rates[low]:.2%} ({low}) to {rates[high]:.2%} ({high})"))
            if estimate.get("gap_warning"):
                text += f"\n  WARNING: {pair}: origin groups differ by {100 * estimate['gap']:.1f} pt in " \
                        "estimated recall; linkage error may bias the origin gap"
        lines.append(text)
    return "\n".join(lines)


# -- audit log ----------------------------------------------------------------------------

class AuditClient:
    """The broker's audit log over gRPC, as a ``linkage.auditlog.LogSource`` (for
    ``fetch_log`` / ``linkage audit fetch``). Only auditors may use it."""

    PAGE = 1000

    def __init__(self, channel: grpc.Channel) -> None:
        from proto.linkage.v1 import audit_pb2, audit_pb2_grpc

        self._pb = audit_pb2
        self._stub = audit_pb2_grpc.AuditServiceStub(channel)

    def signed_tree_head(self):
        from linkage.auditlog import SignedTreeHead

        head = _call(self._stub.GetSignedTreeHead, self._pb.GetSignedTreeHeadRequest())
        return SignedTreeHead.from_json(head.json)

    def entries(self, start: int, end: int) -> list[bytes]:
        entries: list[bytes] = []
        while start + len(entries) < end:
            page = _call(self._stub.GetEntries, self._pb.GetEntriesRequest(
                start=start + len(entries), end=min(end, start + len(entries) + self.PAGE)))
            if not page.entries:
                raise BrokerCallError(grpc.StatusCode.OUT_OF_RANGE, f"the broker returned no entries from {start + len(entries)}")
            entries.extend(page.entries)
        return entries

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        request = self._pb.GetInclusionProofRequest(leaf_index=index, tree_size=tree_size)
        return list(_call(self._stub.GetInclusionProof, request).hashes)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        request = self._pb.GetConsistencyProofRequest(first=first, second=second)
        return list(_call(self._stub.GetConsistencyProof, request).hashes)


# -- command line -------------------------------------------------------------------------

@contextlib.contextmanager
def _progress(quiet: bool, description: str, total: float, transfer: bool):
    """Yield ``update(completed, description=None)``: a rich progress bar on stderr, or a
    no-op when quiet or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda completed, description=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn, TransferSpeedColumn

    columns = (DownloadColumn(), TransferSpeedColumn()) if transfer else (TimeElapsedColumn(),)
    with Progress("[progress.description]{task.description}", BarColumn(), *columns, transient=True,
                  console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)

        def update(completed: float, description: str | None = None) -> None:
            bar.update(task, completed=completed, **({"description": description} if description else {}))

        yield update


def _upload(args: argparse.Namespace) -> int:
    channel = connect(args.broker, args.tls_dir, args.org)
    receipt_key = Path(args.receipt_key) if args.receipt_key else Path(args.tls_dir) / "receipt.pub"
    size = Path(args.file).stat().st_size
    with channel, _progress(args.quiet, f"uploading {Path(args.file).name}", size, transfer=True) as update:
        result = upload_extract(channel, args.file, receipt_key=receipt_key if receipt_key.exists() else None,
                                progress=lambda done, total: update(done))
    out = Path(args.receipt) if args.receipt else Path(str(args.file) + ".receipt.json")
    save_receipt(result.receipt, out)
    facts = result.facts
    state = "already stored" if result.receipt.duplicate else "stored"
    resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from and not result.receipt.duplicate else ""
    print(f"{facts['source']}: {facts['record_count']} records {state} as extract {facts['extract_id']}{resumed}")
    print(f"receipt (signature verified, broker key {facts['broker_key_id']}, audit entry "
          f"{facts['audit_leaf_index']}) written to {out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    with connect(args.broker, args.tls_dir, args.org) as channel:
        run = start_run(channel, args.threshold)
        print(f"run {run.run_id} {'is running' if run.state == broker_pb2.RUN_STATE_RUNNING else RUN_STATES[run.state]}",
              file=sys.stderr)
        if args.no_wait:
            print(run.run_id)
            return 0
        with _progress(args.quiet, "linking", 1.0, transfer=False) as update:
            run = watch_run(channel, run.run_id, lambda stage, fraction: update(fraction, stage))
    print(json.dumps(_run_document(run), indent=2) if args.json else run_summary(run))
    return 0 if run.state == broker_pb2.RUN_STATE_COMPLETED else 1


def _run_document(run: broker_pb2.Run) -> dict:
    return {
        "run_id": run.run_id, "state": RUN_STATES[run.state], "started_at": run.started_at,
        "finished_at": run.finished_at, "started_by": run.started_by,
        "inputs": [{"source": i.source, "extract_id": i.extract_id, "record_count": i.record_count} for i in run.inputs],
        "threshold": run.threshold, "threshold_origin": run.threshold_origin, "entity_count": run.entity_count,
        "parameters": json.loads(run.parameters_json or "{}"), "quality": json.loads(run.quality_json or "{}"),
        "error": run.error,
    }


def _runs(args: argparse.Namespace) -> int:
    with connect(args.broker, args.tls_dir, args.org) as channel:
        runs = [get_run(channel, args.run_id)] if args.run_id else list_runs(channel, args.limit)
    if args.json:
        print(json.dumps([_run_document(run) for run in runs], indent=2))
    else:
        print("\n".join(run_summary(run) for run in runs) or "no runs yet")
    return 0


def _whoami(args: argparse.Namespace) -> int:
    with connect(args.broker, args.tls_dir, args.org) as channel:
        info = broker_info(channel)
    print(f"organisation: {info.organisation}")
    print(f"permissions:  {', '.join(info.permissions) or 'none'}")
    print(f"linkage fingerprint: {info.linkage_fingerprint or '(not pinned yet)'}; CLK bits {info.clk_bits}")
    print(f"policy sha256: {info.policy_sha256}; broker version {info.version}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    statement, signature = load_receipt(Path(args.receipt))
    facts = verify_receipt(statement, signature, load_public_key(args.key))
    print(f"valid receipt: {facts['source']} extract {facts['extract_id']} ({facts['record_count']} records) "
          f"received {facts['received_at']} from {facts['organisation']}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from server import native_log

    config = load_config(args.config, {
        "listen": args.listen, "tls_dir": args.tls_dir, "policy": args.policy, "data_dir": args.data_dir,
        "linkage_fingerprint": args.fingerprint, "auto_run": True if args.auto_run else None,
        "metrics_listen": args.metrics_listen,
    })
    if os.environ.get(native_log.MARK) != "1" and sys.argv[1:2] == ["serve"]:
        # gRPC reads its tracer settings when it loads: start again with them set.
        os.execve(sys.executable, [sys.executable, "-m", "clients.cli", *sys.argv[1:]],
                  {**os.environ, **native_log.ENVIRONMENT})
    if os.environ.get(native_log.MARK) == "1":
        native_log.capture(config.log_level)
    from server.app import serve

    handle = serve(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(
        target=handle.reload_policy, args=("reloaded on SIGHUP",), daemon=True).start())
    while not stop.wait(1.0):
        pass
    handle.stop()
    return 0


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the broker (mutual TLS only)")
    serve.add_argument("--config", metavar="FILE", help="TOML settings (see deploy/broker.toml); flags win")
    serve.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:50051)")
    serve.add_argument("--tls-dir", metavar="DIR", help="holds ca.crt, broker.crt, broker.key (and the broker keys)")
    serve.add_argument("--policy", metavar="FILE", help="the authorisation policy (TOML)")
    serve.add_argument("--data-dir", metavar="DIR", help="where the broker stores its data")
    serve.add_argument("--fingerprint", metavar="FP", help="the linkage fingerprint extracts must carry")
    serve.add_argument("--auto-run", action="store_true", help="link automatically once every source has a new extract")
    serve.add_argument("--metrics-listen", metavar="HOST:PORT",
                       help="serve Prometheus metrics here over plain HTTP (bind it to localhost)")
    serve.set_defaults(func=_serve)

    upload = subparsers.add_parser("upload", help="upload an encoded extract to the broker")
    add_connection_args(upload)
    upload.add_argument("file", help="the extract written by 'linkage encode'")
    upload.add_argument("--receipt", metavar="FILE", help="where to write the receipt (default FILE.receipt.json)")
    upload.add_argument("--receipt-key", metavar="FILE", help="the broker's receipt.pub (default TLS_DIR/receipt.pub)")
    upload.add_argument("--quiet", action="store_true", help="no progress bar")
    upload.set_defaults(func=_upload)

    run = subparsers.add_parser("run", help="start a linkage run on the broker and follow it")
    add_connection_args(run)
    run.add_argument("--threshold", type=float, help="similarity threshold (default: the broker's)")
    run.add_argument("--no-wait", action="store_true", help="print the run id and return at once")
    run.add_argument("--json", action="store_true", help="print the finished run as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    runs = subparsers.add_parser("runs", help="show linkage runs and their quality figures")
    add_connection_args(runs)
    runs.add_argument("run_id", nargs="?", help="one run (default: the latest runs)")
    runs.add_argument("--limit", type=int, default=20, metavar="N", help="show the N latest runs (default 20)")
    runs.add_argument("--json", action="store_true", help="machine-readable output")
    runs.set_defaults(func=_runs)

    whoami = subparsers.add_parser("whoami", help="what the broker knows about your certificate")
    add_connection_args(whoami)
    whoami.set_defaults(func=_whoami)

    receipt = subparsers.add_parser("receipt", help="upload receipts")
    actions = receipt.add_subparsers(dest="receipt_command", metavar="ACTION")
    actions.required = True
    verify = actions.add_parser("verify", help="verify a receipt with the broker's receipt.pub")
    verify.add_argument("receipt", help="the receipt file written by 'linkage upload'")
    verify.add_argument("--key", required=True, metavar="FILE", help="the broker's receipt.pub")
    verify.set_defaults(func=_verify)
