"""Authentication, authorisation and error mapping shared by every service.

Each RPC starts with :meth:`Guard.identify` (who is calling, from the verified client
certificate; revoked certificates are refused) and :meth:`Guard.require` (the policy's
decision; a refusal is recorded and answered with PERMISSION_DENIED and its reason).
:func:`rpc` turns errors a user can act on into the fitting gRPC status, and anything
unexpected into INTERNAL without internals in the message.
"""

from __future__ import annotations

import errno
import functools
import inspect
import logging
import sqlite3
from typing import Any, Callable

import grpc

from linkage.auditlog import AuditLogError
from linkage.errors import LinkageError
from server import logs
from server.events import Recorder
from server.policy import Decision, Policy, PolicyStore
from server.tls import Identity, RevocationList, TlsError, peer_identity


class Refused(Exception):
    """Abort the call with ``code`` and ``message``. ``recorded``: the decision is already in
    the audit log (with its own facts); otherwise :func:`rpc` records it as a refusal. The
    message goes into the permanent log, so it never repeats free text from the caller."""

    def __init__(self, code: grpc.StatusCode, message: str, recorded: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.recorded = recorded


class Guard:
    def __init__(self, policies: PolicyStore, revocations: RevocationList, recorder: Recorder) -> None:
        self.policies = policies
        self.revocations = revocations
        self.recorder = recorder

    @property
    def policy(self) -> Policy:
        return self.policies.current

    def identify(self, context: grpc.ServicerContext, service: str) -> Identity:
        try:
            identity = peer_identity(context)
        except TlsError as exc:
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
        problem = self.revocations.problem(identity)
        if problem:
            self.recorder.refusal(service, identity.organisation, problem, certificate_sha256=identity.fingerprint)
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, problem, recorded=True)
        return identity

    def require(self, decision: Decision, service: str, identity: Identity, **facts: Any) -> None:
        if decision.allowed:
            return
        self.recorder.refusal(service, identity.organisation, decision.reason, **facts)
        raise Refused(grpc.StatusCode.PERMISSION_DENIED, decision.reason, recorded=True)


def _disk_full(reason: str) -> tuple[grpc.StatusCode, str]:
    return grpc.StatusCode.RESOURCE_EXHAUSTED, (
        f"the broker's disk is full ({reason}); nothing was stored. Try again after the operator "
        "has made room"
    )


def _status_of(exc: BaseException, method: str) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, Refused):
        return exc.code, exc.message
    if isinstance(exc, AuditLogError):
        logs.event("audit.unavailable", logging.ERROR, method=method, error=str(exc))
        return grpc.StatusCode.UNAVAILABLE, (
            "the broker could not record this call in its audit log, so it did nothing; "
            "try again later and tell the broker operator"
        )
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        logs.event("call.os_error", logging.ERROR, method=method, errno="SQLITE_FULL", error=str(exc))
        return _disk_full(str(exc))
    if isinstance(exc, OSError) and exc.errno is not None:
        reason = f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror}"
        logs.event("call.os_error", logging.ERROR, method=method, errno=errno.errorcode.get(exc.errno),
                   error=exc.strerror)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return _disk_full(reason)
        return grpc.StatusCode.INTERNAL, f"the broker could not read or write its data ({reason}); tell the operator"
    if isinstance(exc, LinkageError):
        logs.event("call.failed", logging.ERROR, method=method, error=str(exc))
        return grpc.StatusCode.INTERNAL, f"the broker could not complete the call: {exc}"
    logs.event("call.crashed", logging.ERROR, method=method, error=type(exc).__name__)
    logging.getLogger("linkage.broker.trace").debug("unexpected error", exc_info=exc)
    return grpc.StatusCode.INTERNAL, "internal error in the broker; the operator can find it in its log"


def _record(servicer: Any, context: grpc.ServicerContext, method: str, exc: BaseException,
            code: grpc.StatusCode, message: str) -> None:
    """Every call that ends in an error is a decision in the audit log: a refusal not yet
    recorded, or a failure (without internals). Only a failing audit log cannot record it."""
    if (isinstance(exc, Refused) and exc.recorded) or isinstance(exc, AuditLogError):
        return
    try:
        organisation = peer_identity(context).organisation
    except TlsError:
        organisation = "unidentified"
    try:
        servicer.guard.recorder.refusal(servicer.SERVICE, organisation, message, method=method, code=code.name)
    except Exception as failure:  # noqa: BLE001 - the caller still gets its answer
        logs.event("audit.unavailable", logging.ERROR, method=method, error=type(failure).__name__)


def rpc(method: Callable) -> Callable:
    """Decorate a servicer method (plain or server-streaming) with the status mapping and
    the recording of its refusals (the servicer has ``guard`` and ``SERVICE``)."""
    name = method.__name__

    def fail(self: Any, context: grpc.ServicerContext, exc: Exception) -> None:
        code, message = _status_of(exc, name)
        _record(self, context, name, exc, code, message)
        context.abort(code, message)

    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def stream(self: Any, request: Any, context: grpc.ServicerContext):
            try:
                yield from method(self, request, context)
            except Exception as exc:  # noqa: BLE001 - every error becomes a gRPC status
                fail(self, context, exc)
        return stream

    @functools.wraps(method)
    def unary(self: Any, request: Any, context: grpc.ServicerContext):
        try:
            return method(self, request, context)
        except Exception as exc:  # noqa: BLE001 - every error becomes a gRPC status
            fail(self, context, exc)
    return unary
