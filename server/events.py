"""The one place where the broker records its decisions.

Every upload (accepted or rejected), refusal (whatever a call was refused for, see
:func:`server.guard.rpc`), run and policy change is appended to the audit log (``linkage.auditlog``) together with the SHA-256 of the policy in force, and
written as a structured log line. If the audit log cannot record a decision, the call that
caused it fails: the broker never acts without a record. An entry the log's personal-data
screen refuses is written with the offending fields redacted (and a count of them), never
dropped: a refusal provoked with a national number in a request is still a refusal.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Mapping

from linkage.auditlog import AuditLog, SignedTreeHead, policy_entry, refusal_entry, run_entry, upload_entry
from linkage.auditlog.entries import canonical_hash
from linkage.auditlog.errors import PersonalDataError
from server import logs, metrics
from server.screening import redact


class Recorder:
    def __init__(self, log: AuditLog, policy_hash: Callable[[], str]) -> None:
        self.log = log
        self._policy_hash = policy_hash
        self._lock = threading.Lock()

    def _append(self, entry: Mapping[str, Any], level: int = logging.INFO) -> int:
        entry = {**entry, "policy_hash": entry.get("policy_hash") or self._policy_hash()}
        with self._lock:
            try:
                index = self.log.append(entry)
            except PersonalDataError:
                entry = _redacted(entry)
                index = self.log.append(entry)
        metrics.LEDGER_ENTRIES.set(index + 1)
        fields = {key: value for key, value in entry.items()
                  if key not in ("type", "parameters", "quality")}
        logs.event(f"audit.{entry['type']}", level, leaf_index=index, **fields)
        return index

    def upload(self, organisation: str, source: str, extract_id: str, record_count: int,
               accepted: bool, reason: str, **extra: Any) -> int:
        entry = upload_entry(organisation, source, extract_id, record_count, accepted, reason, **extra)
        return self._append(entry, logging.INFO if accepted else logging.WARNING)

    def refusal(self, service: str, requester: str, reason: str, **extra: Any) -> int:
        return self._append(refusal_entry(service, requester, reason, **extra), logging.WARNING)

    def run(self, run_id: str, parameters: Mapping[str, Any], quality: Mapping[str, Any], **extra: Any) -> int:
        return self._append(run_entry(run_id, parameters, quality, **extra))

    def policy(self, policy_hash: str, reason: str, **extra: Any) -> int:
        return self._append(policy_entry(policy_hash, reason, **extra))

    def note(self, kind: str, **fields: Any) -> int:
        """Any other recorded fact (e.g. ``linkage_configuration``)."""
        return self._append({"type": kind, **fields})

    def tree_head(self) -> SignedTreeHead:
        return self.log.signed_tree_head()


def _redacted(entry: Mapping[str, Any]) -> dict[str, Any]:
    clean, count = redact(dict(entry))
    if clean.get("type") == "request" and isinstance(clean.get("request"), dict):
        clean["request_hash"] = canonical_hash(clean["request"])
    return {**clean, "redacted_fields": count}
