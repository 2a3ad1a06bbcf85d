"""Every RPC, whatever its service: a request id, the revocation check, a log line, metrics.

A server interceptor wraps each method handler. It gives the call a request id (in every
log line written while the call runs), refuses a revoked certificate on the services the
broker does not implement itself (health and reflection; the broker's own services check
it in :meth:`server.guard.Guard.identify`, with their own audit entry), and when the call
ends writes ``rpc.finished`` with the method, status code and duration, and counts it in
the metrics.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable

import grpc

from server import logs, metrics
from server.guard import Guard, Refused


def _code(context: grpc.ServicerContext, failed: bool) -> str:
    code = context.code()
    if code is None:
        return "UNKNOWN" if failed else "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class CallInterceptor(grpc.ServerInterceptor):
    def __init__(self, guard: Guard, own_services: tuple[str, ...]) -> None:
        self.guard = guard
        self.own_services = frozenset(own_services)

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails):
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        service = method.strip("/").split("/")[0]
        check = service.split(".")[1] if service not in self.own_services and "." in service else None
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, check), handler.request_deserializer,
                handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(handler.stream_unary, method, check), handler.request_deserializer,
                handler.response_serializer)
        behaviour = handler.unary_stream or handler.stream_stream
        make = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
        return make(self._stream(behaviour, method, check), handler.request_deserializer,
                    handler.response_serializer)

    def _begin(self, context: grpc.ServicerContext, check: str | None) -> None:
        """``check``: the short name of a service the broker does not implement itself
        (``health``, ``reflection``), whose callers are checked here."""
        logs.REQUEST_ID.set(uuid.uuid4().hex[:16])
        if check:
            try:
                self.guard.identify(context, check)
            except Refused as refused:
                context.abort(refused.code, refused.message)

    def _end(self, method: str, context: grpc.ServicerContext, started: float, failed: bool) -> None:
        seconds = time.monotonic() - started
        code = _code(context, failed)
        metrics.REQUESTS.labels(method, code).inc()
        metrics.REQUEST_SECONDS.labels(method).observe(seconds)
        logs.event("rpc.finished", logging.INFO if code == "OK" else logging.WARNING, method=method,
                   code=code, duration_ms=round(seconds * 1000, 1))
        logs.REQUEST_ID.set(None)

    def _unary(self, behaviour: Callable, method: str, check: str | None) -> Callable:
        def call(request: Any, context: grpc.ServicerContext):
            started, failed = time.monotonic(), True
            try:
                self._begin(context, check)
                response = behaviour(request, context)
                failed = False
                return response
            finally:
                self._end(method, context, started, failed)
        return call

    def _stream(self, behaviour: Callable, method: str, check: str | None) -> Callable:
        def call(request: Any, context: grpc.ServicerContext):
            started, failed = time.monotonic(), True
            try:
                self._begin(context, check)
                yield from behaviour(request, context)
                failed = False
            finally:
                self._end(method, context, started, failed)
        return call
