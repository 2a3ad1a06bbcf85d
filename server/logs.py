"""Structured logs: one JSON object per line on stderr, never personal data.

Callers pass only organisation names, sources, extract ids (content hashes), counts,
durations and reasons; record references, tokens, CLKs and scores are never logged. Every
line has ``time``, ``level`` and ``event``; lines written while an RPC is served also carry
its ``request_id`` (see :mod:`server.calls`). ``linkage serve`` also routes what native
code writes (gRPC core, solvers) through here (:mod:`server.native_log`), so that the
stream holds JSON lines only.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, TextIO

LOGGER = logging.getLogger("linkage.broker")
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage() if record.name == LOGGER.name else "python.log",
        }
        request_id = REQUEST_ID.get()
        if request_id:
            document["request_id"] = request_id
        if record.name != LOGGER.name:
            document.update(logger=record.name, message=record.getMessage()[:500])
        if record.exc_info and record.exc_info[0] is not None:
            document["exception"] = record.exc_info[0].__name__
        document.update(getattr(record, "fields", {}))
        return json.dumps(document, default=str, sort_keys=False)


def _handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler._linkage_json = True  # type: ignore[attr-defined]
    return handler


def configure(level: str = "INFO") -> None:
    """Send broker logs as JSON lines to stderr (idempotent)."""
    if not any(getattr(h, "_linkage_json", False) for h in LOGGER.handlers):
        LOGGER.addHandler(_handler(sys.stderr))
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False


def take_over(stream: TextIO, level: str = "INFO") -> None:
    """Write every log record of the process (the broker's and other libraries') as JSON
    to ``stream``; for ``linkage serve``, which owns its process."""
    handler = _handler(stream)
    LOGGER.handlers = [handler]
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)


def write_line(text: str) -> None:
    """Write a line that already is a JSON event to the log stream."""
    handler = LOGGER.handlers[0]
    with handler.lock:
        handler.stream.write(text + "\n")
        handler.stream.flush()


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    LOGGER.log(level, name, extra={"fields": fields})
