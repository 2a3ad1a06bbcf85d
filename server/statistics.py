"""StatisticsService.Aggregate: a disclosure-controlled table under an authorisation.

The call is authenticated (client certificate), the request checked against the registry
(INVALID_ARGUMENT with the reason), the authorisation checked against the policy
(PERMISSION_DENIED with the reason; an expired one is refused), and only then is the
table computed over the latest completed linkage run and protected
(:func:`linkage.aggregate.service.answer_request`, with the broker's release ledger). Every
request, granted or refused, is a ``request`` entry in the audit log; a granted answer
carries the receipt (leaf index and signed tree head) of its entry.

A call waits for its table's joint audit ``answer_wait`` seconds at most; past them it gets a
retryable UNAVAILABLE ("being audited") with the ``retry-after-seconds`` trailer, while the
audit goes on in its own thread. Asked again, the same request joins that audit or, once it
has passed, is answered from the ledger. The audit log has a ``refused`` entry with that reason
for the call that started the audit, and one for the outcome; calls that only asked again
while it went on add nothing (a request waiting minutes would otherwise fill the log: 8,934
calls for 200 requests of 50 requesters).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import threading
import time
from pathlib import Path
from typing import Callable

import grpc

from linkage.aggregate.answer import AggregateAnswer
from linkage.aggregate.compute import LinkedData, linked_data_from_clusters
from linkage.aggregate.request import RequestError, validate_request
from linkage.aggregate.plan import plan
from linkage.aggregate.service import answer_request
from linkage.auditlog import request_entry
from linkage.disclosure import AeadSealer, AuditUnfinished, LedgerError, PersonLedger, ProtectionRefused
from linkage.disclosure.background import AuditPending, BackgroundAudits
from proto.linkage.v1 import audit_pb2, statistics_pb2, statistics_pb2_grpc
from server import metrics
from server.audit_service import tree_head_message
from server.events import Recorder
from server.guard import Guard, Refused, rpc
from server.keys import LEDGER_SEAL, derived_key
from server.policy import authorise_statistics
from server.screening import screen_request
from server.storage import StorageError, Store
from server.tls import Identity

SERVICE = "statistics"
LEDGER_FILE = "person_ledger.sqlite"
RETRY_AFTER = "retry-after-seconds"
"""Trailer of a call whose table is still being audited: when to ask again."""
REPLY_MARGIN = 0.5
"""Seconds kept before the requester's deadline to send the answer or the retry."""


def request_fields(message: statistics_pb2.AggregateRequest) -> dict:
    """The request message as the fields of a request file (validated by the library)."""
    periods = list(message.periods)
    return {
        "authorisation": message.authorisation,
        "population": message.population,
        "period": periods[0] if len(periods) == 1 else periods,
        "measures": list(message.measures),
        "dimensions": list(message.dimensions),
        "reference_date": message.reference_date,
    }


def response_cells(answer: AggregateAnswer) -> list[statistics_pb2.Cell]:
    cells = []
    for table in answer.tables:
        names = [d.name for d in table.dimensions]
        for cell in table.cells:
            message = statistics_pb2.Cell(
                coordinates=[statistics_pb2.CellCoordinate(dimension=n, category=c)
                             for n, c in zip(names, cell.key)],
                measure=table.measure, status=cell.status,
            )
            if not cell.suppressed:
                if table.kind == "rate":
                    message.denominator = cell.count
                    message.numerator = cell.numerator
                    if cell.rate is not None:
                        message.value = cell.rate
                else:
                    message.value = float(cell.count)
            cells.append(message)
    return cells


def table_hash(answer: AggregateAnswer) -> str:
    return hashlib.sha256(answer.to_json().encode()).hexdigest()


class StatisticsService(statistics_pb2_grpc.StatisticsServiceServicer):
    SERVICE = SERVICE

    def __init__(self, guard: Guard, store: Store, recorder: Recorder, data_dir: str | Path,
                 minimum_cell_size: int = 5, today: Callable[[], _dt.date] = _dt.date.today,
                 audit_time_limit: float = 300.0, answer_wait: float = 1.0,
                 max_queued_audits: int | None = None) -> None:
        self.guard = guard
        self.minimum_cell_size = minimum_cell_size
        self.audit_time_limit = audit_time_limit
        self.answer_wait = answer_wait
        self.audits = BackgroundAudits(max_queued_audits, observe=metrics.RELEASE_AUDIT_SECONDS.observe)
        """Audits that go on after the call that asked for them (``answer_wait``)."""
        self._linked: tuple[str, LinkedData] | None = None
        """The latest run's linked data, kept decrypted in memory between requests."""
        self.store = store
        self.recorder = recorder
        # The ledger is sealed with a key derived from the store's data key.
        self.ledger = PersonLedger(Path(data_dir) / LEDGER_FILE,
                                   AeadSealer(derived_key(store._key, LEDGER_SEAL)))
        self.today = today
        # Short locks only: loading a run's data once, and a log entry with its receipt.
        # Audits run in their own threads (``audits``) and take turns on the ledger.
        self._load_lock = threading.Lock()
        self._log_lock = threading.Lock()

    def _linked_data(self, run_id: str) -> LinkedData:
        with self._load_lock:
            return self._load(run_id)

    def _load(self, run_id: str) -> LinkedData:
        if self._linked is None or self._linked[0] != run_id:
            try:
                clusters, payloads = self.store.load_run_inputs(run_id)
            except StorageError as exc:
                raise Refused(grpc.StatusCode.FAILED_PRECONDITION, str(exc)) from None
            self._linked = (run_id, linked_data_from_clusters(clusters, payloads, snapshot=run_id))
        return self._linked[1]

    def _refuse(self, identity: Identity, fields: dict, code: grpc.StatusCode, reason: str) -> Refused:
        """Record the refusal with only what the registry and policy know of the request (any
        other text the caller typed may be a name or a national number), then refuse."""
        logged, logged_reason = screen_request(_plain(fields), reason, self.guard.policy)
        self.recorder.note(**_entry(identity, logged, "refused", logged_reason))
        return Refused(code, reason, recorded=True)

    @rpc
    def Aggregate(self, message, context):
        called = time.monotonic()
        identity = self.guard.identify(context, SERVICE)
        fields = request_fields(message)
        if message.accept_coarser:
            raise self._refuse(identity, fields, grpc.StatusCode.INVALID_ARGUMENT,
                               "accept_coarser is not supported by this broker version; ask for a "
                               "coarser table yourself (fewer dimensions, broader age bands)")
        try:
            request = validate_request(fields)
        except RequestError as exc:
            raise self._refuse(identity, fields, grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        resolved = plan(request)
        decision = authorise_statistics(
            self.guard.policy, identity.organisation, request.authorisation, resolved.sources,
            request.measures, [d.key for d in request.dimensions], request.periods, self.today(),
        )
        if not decision.allowed:
            raise self._refuse(identity, request.to_dict(), grpc.StatusCode.PERMISSION_DENIED, decision.reason)
        k = max(decision.authorisation.min_cell_size, self.minimum_cell_size)
        latest = self.store.runs(limit=1, state="completed")
        if not latest:
            raise self._refuse(identity, request.to_dict(), grpc.StatusCode.FAILED_PRECONDITION,
                               "no completed linkage run yet: upload the extracts and start a run")
        run_id = latest[0].run_id
        data = self._linked_data(run_id)
        remaining = context.time_remaining()
        wait = min(called + self.answer_wait - time.monotonic(),
                   max(remaining - REPLY_MARGIN, 0.0) if remaining is not None else math.inf)
        try:
            answer = answer_request(resolved, data, k=k, ledger=self.ledger, minimum=self.minimum_cell_size,
                                    audit_limit=self.audit_time_limit, audits=self.audits, wait=wait)
        except (ProtectionRefused, LedgerError) as exc:
            raise self._refuse(identity, request.to_dict(), grpc.StatusCode.FAILED_PRECONDITION,
                               str(exc)) from None
        except AuditPending as pending:
            context.set_trailing_metadata(((RETRY_AFTER, f"{retry_seconds(pending.under_way):g}"),))
            if not pending.started:         # recorded when the request started its audit
                raise Refused(grpc.StatusCode.UNAVAILABLE, str(pending), recorded=True) from None
            raise self._refuse(identity, request.to_dict(), grpc.StatusCode.UNAVAILABLE, str(pending)) from None
        except AuditUnfinished as exc:
            raise self._refuse(identity, request.to_dict(), grpc.StatusCode.UNAVAILABLE, str(exc)) from None
        # Counts of hidden cells by internal reason: for auditors, never per cell.
        with self._log_lock:
            index = self.recorder.note(**_entry(
                identity, request.to_dict(), "granted", decision.reason, table_hash=table_hash(answer),
                suppressed=dict(answer.suppression_reasons), run_id=run_id, min_cell_size=k,
            ))
            head = self.recorder.tree_head()
        meta = answer.metadata
        return statistics_pb2.AggregateResponse(
            cells=response_cells(answer),
            definitions_version=", ".join(f"{name} {v['version']} ({v['fingerprint'][:12]})"
                                          for name, v in meta["origin_definitions"].items()),
            registry_version=meta["registry_version"], rules_version=meta["rules_version"],
            authorisation=request.authorisation, min_cell_size=k, run_id=run_id,
            audit_receipt=audit_pb2.AuditReceipt(leaf_index=index, head=tree_head_message(head)),
        )


def retry_seconds(under_way: int) -> float:
    """When a requester whose table is being audited should ask again: at once while few
    audits are under way or waiting (the call itself waits for the audit, so nothing is lost
    between calls), later the more there are (a call answered "being audited" still costs the
    broker a request's checks): a second per 4 audits, up to 15 s. With 1 s for every table,
    filling the load bench's ledger took 78 s instead of 64."""
    return float(min(15, under_way // 4))


def _entry(identity: Identity, fields: dict, decision: str, reason: str, **extra) -> dict:
    entry = request_entry(identity.organisation, str(fields.get("authorisation") or "-"),
                          _plain(fields), decision, reason, **extra)
    return {"kind": entry.pop("type"), **entry}


def _plain(fields: dict) -> dict:
    """The request as recorded: JSON-safe (dates as text)."""
    return {key: value.isoformat() if isinstance(value, _dt.date) else value for key, value in fields.items()}
