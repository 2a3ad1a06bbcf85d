"""What native code writes, as JSON log events: ``linkage serve`` owns its stdout/stderr.

gRPC core reports a refused TLS handshake (no client certificate, one from another CA, an
expired one) only in its own text lines, before any Python code sees the connection. The
broker therefore runs with gRPC's ``handshaker`` tracer on (set in the environment before
gRPC loads, see :data:`ENVIRONMENT`), points file descriptors 1 and 2 at a pipe, and turns
what arrives there into JSON events: a failed handshake becomes ``tls.handshake_refused``
with the peer address and the TLS reason; the tracer's routine lines are dropped; any
other native line becomes ``native.log``; JSON lines pass unchanged. The line format is
that of the pinned grpcio (1.85).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import sys
import threading
from typing import IO

from server import logs, metrics

MARK = "LINKAGE_BROKER_NATIVE_LOG"
ENVIRONMENT = {"GRPC_TRACE": "handshaker", "GRPC_VERBOSITY": "INFO", MARK: "1"}
"""Set before gRPC loads; ``linkage serve`` re-executes itself with it."""

_CORE_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ ([\w./-]+):\d+\] ?(.*)$")
_LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}
_PEER = re.compile(r"endpoint_peer_address=([^,}\s]+)")
_FAILED = re.compile(r"CallNextHandshakerLocked: error=(?!OK\b)(.*?)(?: shutdown=|$)")
_TLS_REASON = re.compile(r"Handshake failed with error (.*)")
_ROUTINE = ("handshaker.cc", "channel_trace.h", "trace.cc", "log.cc", "ssl_transport_security.cc")
_CONTINUATION = ("=== Source Location Trace", "src/", " shutdown=")


class _Reader:
    """Turns the lines of the native streams into events (one thread, in order)."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.tls_reason: str | None = None

    def line(self, text: str) -> None:
        if not text.strip():
            return
        if text.startswith("{"):
            with contextlib.suppress(ValueError):
                json.loads(text)
                logs.write_line(text)
                return
        match = _CORE_LINE.match(text)
        source, message = (match.group(2), match.group(3)) if match else ("", text)
        failed = _FAILED.search(message)
        if failed:
            self.failure = failed.group(1).strip().removesuffix(": OK")
        reason = _TLS_REASON.search(message) if source == "ssl_transport_security.cc" else None
        if reason:
            self.tls_reason = reason.group(1).strip()
        peer = _PEER.search(message)
        if peer and self.failure is not None:
            metrics.TLS_REFUSALS.inc()
            logs.event("tls.handshake_refused", logging.WARNING, peer=peer.group(1),
                       reason=(self.tls_reason or self.failure)[:300])
            self.failure = self.tls_reason = None
            return
        if source in _ROUTINE or (not match and text.startswith(_CONTINUATION)):
            return
        level = _LEVELS[match.group(1)] if match else logging.WARNING
        logs.event("native.log", level, source=source or "stdout/stderr", message=message[:500])


def _pump(stream: IO[str]) -> None:
    reader = _Reader()
    for text in stream:
        try:
            reader.line(text.rstrip("\n"))
        except Exception:  # noqa: BLE001 - the log pump must never stop
            continue


def capture(level: str = "INFO") -> None:
    """Route this process's stdout and stderr through JSON events."""
    real = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    logs.take_over(real, level)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    stream = os.fdopen(read_end, "r", encoding="utf-8", errors="replace")
    pump = threading.Thread(target=_pump, args=(stream,), name="native-log", daemon=True)
    pump.start()

    def drain() -> None:
        """At exit, let the pump write what is still in the pipe (a last error message)."""
        for handle in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                handle.flush()
        os.dup2(real.fileno(), 1)
        os.dup2(real.fileno(), 2)
        pump.join(2.0)

    atexit.register(drain)


def silence_highs_banner() -> None:
    """HiGHS prints its banner to stdout when the first solver of the process is made,
    whatever its options; make that one with stdout pointed at /dev/null."""
    import highspy

    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
