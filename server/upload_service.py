"""UploadService: encoded extracts in, signed receipts out.

An upload is received into a sealed, resumable partial file; when the last byte arrives
the broker checks the content hash and validates the extract, records the decision in the
audit log, signs a receipt, and only then makes the extract visible (see
:mod:`server.storage`). What it stores is the validated copy (:mod:`server.validation`),
not the uploaded bytes. A failed check leaves nothing stored. Unfinished uploads expire
after ``upload_expiry_hours`` without data (see :meth:`Store.expire_partials`), and an
organisation holds at most four: a fifth replaces the one idle longest.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import Callable, Iterator

import grpc

from linkage.sources import SOURCES
from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server import logs, metrics
from server.config import BrokerConfig
from server.events import Recorder
from server.guard import Guard, Refused, rpc
from server.linkage_config import LinkageConfiguration
from server.policy import authorise_upload
from server.receipts import sign_receipt
from server.sealed import GrowingFile, SealedReader
from server.storage import ExtractRecord, Store, utc_now
from server.tls import Identity
from server.validation import PRECONDITION, Expectation, ExtractRejected, validate_extract

SERVICE = "upload"
_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_OPEN_UPLOADS_PER_ORGANISATION = 4


def receipt_message(record: ExtractRecord, duplicate: bool) -> broker_pb2.UploadReceipt:
    return broker_pb2.UploadReceipt(
        statement=record.receipt_statement,
        signature=record.receipt_signature,
        extract_id=record.extract_id,
        source=record.source,
        record_count=record.record_count,
        duplicate=duplicate,
    )


class IdleWatch:
    """Cancels a client-streaming call whose client sends nothing for ``seconds`` (one
    watcher thread per call), so that no stalled client holds a server thread for good."""

    def __init__(self, context: grpc.ServicerContext, seconds: float) -> None:
        self._context = context
        self._seconds = seconds
        self._last = time.monotonic()
        self._done = threading.Event()
        self.fired = False

    def each(self, messages: Iterator[broker_pb2.UploadChunk]) -> Iterator[broker_pb2.UploadChunk]:
        for message in messages:
            self._last = time.monotonic()
            yield message

    def _watch(self) -> None:
        while not self._done.wait(max(0.0, self._last + self._seconds - time.monotonic())):
            if time.monotonic() - self._last >= self._seconds:
                self.fired = True
                self._context.cancel()
                return

    def __enter__(self) -> "IdleWatch":
        threading.Thread(target=self._watch, name="upload-idle", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()


class UploadService(broker_pb2_grpc.UploadServiceServicer):
    SERVICE = SERVICE

    def __init__(self, guard: Guard, store: Store, recorder: Recorder, config: BrokerConfig,
                 receipt_key, linkage: LinkageConfiguration, on_stored: Callable[[], None]) -> None:
        self.guard = guard
        self.store = store
        self.recorder = recorder
        self.config = config
        self.receipt_key = receipt_key
        self.linkage = linkage
        self.on_stored = on_stored
        self._busy: set[tuple[str, str]] = set()
        self._busy_lock = threading.Lock()

    # -- checks shared by BeginUpload and Upload --------------------------------------------

    def _admit(self, context: grpc.ServicerContext, manifest: broker_pb2.ExtractManifest) -> Identity:
        identity = self.guard.identify(context, SERVICE)
        if manifest.source not in SOURCES:
            self.recorder.refusal(SERVICE, identity.organisation, "unknown source in the manifest")
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                "the extract holds identifiers only (encoded without --source); encode it again with "
                f"--source NAME ({', '.join(SOURCES)})" if not manifest.source else
                f"unknown source {manifest.source[:40]!r}; known sources: {', '.join(sorted(SOURCES))}",
                recorded=True,
            )
        self.guard.require(
            authorise_upload(self.guard.policy, identity.organisation, manifest.source),
            SERVICE, identity, source=manifest.source,
        )
        if not _SHA256.fullmatch(manifest.content_sha256):
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                "content_sha256 must be the file's SHA-256 as 64 lower-case hexadecimal characters",
            )
        if manifest.size_bytes == 0:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "the extract is empty (size_bytes is 0)")
        if manifest.size_bytes > self.config.max_extract_bytes:
            reason = (
                f"the extract has {manifest.size_bytes} bytes; this broker accepts at most "
                f"{self.config.max_extract_bytes} (max_extract_bytes): split the population or ask "
                "the operator to raise the limit"
            )
            self.recorder.refusal(SERVICE, identity.organisation, reason, source=manifest.source)
            raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, reason, recorded=True)
        return identity

    def _stored(self, manifest: broker_pb2.ExtractManifest) -> ExtractRecord | None:
        record = self.store.extract(manifest.content_sha256)
        if record is None or record.state == "deleted" or record.clks_deleted_at:
            return None
        if record.source != manifest.source:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"this content is stored as an extract of source {record.source!r}, not {manifest.source!r}",
            )
        return record

    # -- RPCs ------------------------------------------------------------------------------

    @rpc
    def BeginUpload(self, request, context):
        identity = self._admit(context, request.manifest)
        response = broker_pb2.BeginUploadResponse(max_chunk_bytes=self.config.max_chunk_bytes)
        record = self._stored(request.manifest)
        if record is not None:
            response.receipt.CopyFrom(receipt_message(record, duplicate=True))
            response.offset = record.size_bytes
            return response
        response.offset = self.store.partial_bytes(identity.organisation, request.manifest.content_sha256)
        return response

    @rpc
    def Upload(self, request_iterator, context):
        with IdleWatch(context, self.config.upload_idle_seconds) as watch:
            try:
                return self._upload(watch.each(request_iterator), context)
            except Exception:
                if watch.fired:
                    raise Refused(
                        grpc.StatusCode.CANCELLED,
                        f"the upload sent nothing for {self.config.upload_idle_seconds:g} s "
                        "(upload_idle_seconds) and was cancelled; the bytes received stay: run the "
                        "same 'linkage upload' again to resume",
                    ) from None
                raise

    def _upload(self, request_iterator: Iterator[broker_pb2.UploadChunk], context) -> broker_pb2.UploadReceipt:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("kind") != "start":
            self.guard.identify(context, SERVICE)
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "the first message of an upload must be 'start'")
        manifest = first.start.manifest
        identity = self._admit(context, manifest)
        record = self._stored(manifest)
        if record is not None:
            logs.event("upload.duplicate", organisation=identity.organisation, source=manifest.source,
                       extract_id=manifest.content_sha256)
            return receipt_message(record, duplicate=True)
        key = (identity.organisation, manifest.content_sha256)
        with self._busy_lock:
            if key in self._busy:
                raise Refused(grpc.StatusCode.ABORTED, "another upload of this extract is in progress; wait for it")
            self._busy.add(key)
        try:
            return self._receive(identity, manifest, first.start.offset, request_iterator, context)
        finally:
            with self._busy_lock:
                self._busy.discard(key)

    @rpc
    def GetReceipt(self, request, context):
        identity = self.guard.identify(context, SERVICE)
        record = self.store.extract(request.extract_id)
        if record is None or record.organisation != identity.organisation:
            reason = "no extract with this id was uploaded by your organisation"
            self.recorder.refusal(SERVICE, identity.organisation, reason, method="GetReceipt",
                                  extract_id=request.extract_id if _SHA256.fullmatch(request.extract_id) else None)
            raise Refused(grpc.StatusCode.NOT_FOUND, reason, recorded=True)
        return receipt_message(record, duplicate=True)

    # -- receiving and accepting -----------------------------------------------------------

    def _receive(self, identity: Identity, manifest, offset: int,
                 chunks: Iterator[broker_pb2.UploadChunk], context) -> broker_pb2.UploadReceipt:
        organisation, extract_id, size = identity.organisation, manifest.content_sha256, manifest.size_bytes
        path = self.store.partial_path(organisation, extract_id)
        if not path.exists():
            self._make_room(organisation)
        partial = self.store.partial(organisation, extract_id)
        if offset == 0 and partial.size:
            partial.discard()
            partial = self.store.partial(organisation, extract_id)
        if offset != partial.size:
            if partial.size == 0:
                partial.discard()
            raise Refused(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the broker holds {partial.size} bytes of this upload, not {offset}: resume from "
                f"{partial.size} (BeginUpload tells the offset) or start again from 0",
            )
        received = partial.size
        started = time.monotonic()
        digest = hashlib.sha256()
        for piece in partial.read_all():  # what an earlier attempt left (a resume)
            digest.update(piece)
        for message in chunks:
            if message.WhichOneof("kind") != "data":
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "only the first message may be 'start'")
            data = message.data
            if len(data) > self.config.max_chunk_bytes:
                raise Refused(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"a chunk of {len(data)} bytes exceeds max_chunk_bytes {self.config.max_chunk_bytes}",
                )
            if received + len(data) > size:
                partial.discard()
                self._reject(identity, manifest, 0, "more bytes arrived than the manifest announced")
            partial.append(data)
            metrics.UPLOAD_BYTES.labels(manifest.source).inc(len(data))
            digest.update(data)
            received += len(data)
        if received < size:
            logs.event("upload.incomplete", organisation=organisation, source=manifest.source,
                       extract_id=extract_id, received=received, expected=size)
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the upload ended after {received} of {size} bytes (truncated). The broker keeps "
                "them: run the same 'linkage upload' again to resume",
            )
        streamed = time.monotonic()
        try:
            receipt = self._accept(identity, manifest, partial, digest.hexdigest())
        finally:
            partial.discard()
        logs.event("upload.stored", organisation=organisation, source=manifest.source, extract_id=extract_id,
                   records=receipt.record_count, bytes=size, receive_seconds=round(streamed - started, 3),
                   accept_seconds=round(time.monotonic() - streamed, 3))
        return receipt

    def _make_room(self, organisation: str) -> None:
        """Keep at most MAX_OPEN_UPLOADS_PER_ORGANISATION unfinished uploads per organisation:
        a new upload replaces the one idle longest, so that broken uploads never lock a provider
        out; only uploads still receiving data are never replaced."""
        held = self.store.partials(organisation)
        excess = len(held) + 1 - MAX_OPEN_UPLOADS_PER_ORGANISATION
        if excess <= 0:
            return
        with self._busy_lock:  # no upload of these can start while they are removed
            idle = [extract_id for extract_id, _ in held if (organisation, extract_id) not in self._busy]
            if len(idle) < excess:
                raise Refused(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"{organisation!r} has {len(held) - len(idle)} uploads receiving data at this "
                    f"moment, and the broker holds at most {MAX_OPEN_UPLOADS_PER_ORGANISATION} "
                    "unfinished uploads per organisation; wait until one of them has finished",
                )
            for extract_id in idle[:excess]:
                self.store.partial_path(organisation, extract_id).unlink(missing_ok=True)
        self.recorder.note("uploads_replaced", organisation=organisation, count=excess,
                           limit=MAX_OPEN_UPLOADS_PER_ORGANISATION)

    def _reject(self, identity: Identity, manifest, record_count: int, reason: str,
                code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT) -> None:
        self.recorder.upload(identity.organisation, manifest.source, manifest.content_sha256,
                             record_count, False, reason)
        raise Refused(code, f"extract rejected, nothing stored: {reason}", recorded=True)

    def _accept(self, identity: Identity, manifest, partial: GrowingFile, sha256: str) -> broker_pb2.UploadReceipt:
        """Validate into a staged copy, record, sign and commit; the caller discards the
        partial file. The upload is read from its sealed partial file piece by piece, so
        memory does not grow with its size."""
        extract_id = manifest.content_sha256
        if sha256 != extract_id:
            self._reject(identity, manifest, 0,
                         "the content does not match its SHA-256: it was corrupted in transit or the "
                         "file changed during the upload; upload it again")
        expected = Expectation(manifest.source, self.config.clk_bits)
        try:
            try:
                with SealedReader(partial) as source, self.store.sealing_extract(extract_id) as sink:
                    header = validate_extract(source, source.size, expected, sink)
                self.linkage.claim(header.fingerprint)
            except ExtractRejected as exc:
                code = (grpc.StatusCode.FAILED_PRECONDITION if exc.kind == PRECONDITION
                        else grpc.StatusCode.INVALID_ARGUMENT)
                self._reject(identity, manifest, 0, str(exc), code)
            received_at = utc_now()
            leaf = self.recorder.upload(
                identity.organisation, manifest.source, extract_id, header.record_count,
                True, "validated and stored", fingerprint=header.fingerprint, clk_bits=header.clk_bits,
            )
            facts = {
                "extract_id": extract_id, "source": manifest.source,
                "organisation": identity.organisation, "record_count": header.record_count,
                "size_bytes": manifest.size_bytes, "linkage_fingerprint": header.fingerprint,
                "received_at": received_at, "audit_leaf_index": leaf,
            }
            statement, signature = sign_receipt(self.receipt_key, facts)
            record = ExtractRecord(
                extract_id=extract_id, source=manifest.source,
                organisation=identity.organisation, record_count=header.record_count,
                size_bytes=manifest.size_bytes, clk_bits=header.clk_bits, fingerprint=header.fingerprint,
                created=header.created, received_at=received_at, state="current",
                receipt_statement=statement, receipt_signature=signature,
            )
            self.store.commit_extract(record)
        finally:
            self.store.discard_staged(extract_id)
        self.on_stored()
        return receipt_message(record, duplicate=False)
