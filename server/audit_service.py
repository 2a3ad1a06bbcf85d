"""AuditService: tree heads, entries and proofs of the audit log, for auditors only."""

from __future__ import annotations

import grpc

from linkage.auditlog import AuditLog, AuditLogError, SignedTreeHead
from proto.linkage.v1 import audit_pb2, audit_pb2_grpc
from server.guard import Guard, Refused, rpc
from server.policy import authorise_audit

SERVICE = "audit"
MAX_ENTRIES = 1000


def tree_head_message(head: SignedTreeHead) -> audit_pb2.SignedTreeHead:
    return audit_pb2.SignedTreeHead(
        tree_size=head.tree_size, root_hash=head.root_hash, timestamp_ms=head.timestamp,
        signature=head.signature, log_id=head.log_id, json=head.to_json(),
    )


class AuditService(audit_pb2_grpc.AuditServiceServicer):
    SERVICE = SERVICE

    def __init__(self, guard: Guard, log: AuditLog) -> None:
        self.guard = guard
        self.log = log

    def _auditor(self, context) -> None:
        identity = self.guard.identify(context, SERVICE)
        self.guard.require(authorise_audit(self.guard.policy, identity.organisation), SERVICE, identity)

    def _ask(self, call):
        """Run a log query; a range or size outside the log is the caller's mistake."""
        try:
            return call()
        except AuditLogError as exc:
            raise Refused(grpc.StatusCode.OUT_OF_RANGE, str(exc)) from None

    @rpc
    def GetSignedTreeHead(self, request, context):
        self._auditor(context)
        return tree_head_message(self.log.signed_tree_head())

    @rpc
    def GetEntries(self, request, context):
        self._auditor(context)
        if request.end < request.start:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "end lies before start")
        end = min(request.end, request.start + MAX_ENTRIES, self.log.size())
        if request.start > end:
            raise Refused(grpc.StatusCode.OUT_OF_RANGE, f"the log holds {self.log.size()} entries")
        entries = self._ask(lambda: self.log.entries(request.start, end))
        return audit_pb2.GetEntriesResponse(start=request.start, entries=entries)

    @rpc
    def GetInclusionProof(self, request, context):
        self._auditor(context)
        if request.leaf_index >= request.tree_size:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "leaf_index must be below tree_size")
        return audit_pb2.Proof(hashes=self._ask(lambda: self.log.inclusion_proof(request.leaf_index, request.tree_size)))

    @rpc
    def GetConsistencyProof(self, request, context):
        self._auditor(context)
        if request.first > request.second:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "first must not exceed second")
        return audit_pb2.Proof(hashes=self._ask(lambda: self.log.consistency_proof(request.first, request.second)))
