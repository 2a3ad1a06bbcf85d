"""Prometheus metrics of the broker, served on their own plain-HTTP listener.

The listener (``metrics_listen``, e.g. ``127.0.0.1:9464``) is separate from the mutual-TLS
API port so that an operator binds it to localhost or a monitoring network only. Metrics
carry method names, status codes, sources and sizes, never an organisation's data.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from server.config import ConfigError

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("linkage_broker_requests", "RPCs answered, by method and status code",
                   ("method", "code"), registry=REGISTRY)
REQUEST_SECONDS = Histogram("linkage_broker_request_duration_seconds", "RPC duration, by method",
                            ("method",), registry=REGISTRY,
                            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600))
UPLOAD_BYTES = Counter("linkage_broker_upload_bytes", "Extract bytes received, by source",
                       ("source",), registry=REGISTRY)
RUN_SECONDS = Histogram("linkage_broker_run_duration_seconds", "Linkage run duration, by final state",
                        ("state",), registry=REGISTRY, buckets=(1, 10, 60, 300, 900, 3600, 4 * 3600))
LEDGER_ENTRIES = Gauge("linkage_broker_audit_log_entries", "Entries in the audit log", registry=REGISTRY)
RELEASE_LEDGER_BYTES = Gauge("linkage_broker_release_ledger_bytes",
                             "Size of the release ledger (disclosure control) on disk", registry=REGISTRY)
RELEASE_AUDIT_SECONDS = Histogram("linkage_broker_release_audit_duration_seconds",
                                  "Time from a statistics request's start to its table's release "
                                  "audit outcome, waiting for its turn included", registry=REGISTRY,
                                  buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
RELEASE_AUDITS = Gauge("linkage_broker_release_audits_under_way",
                       "Statistics requests whose release audit is under way or waiting for its turn",
                       registry=REGISTRY)
TLS_REFUSALS = Counter("linkage_broker_tls_handshake_refusals", "TLS handshakes the broker refused",
                       registry=REGISTRY)


def watch_release_ledger(path: Path) -> None:
    """Report the size of the release ledger file ``path`` (0 while it does not exist)."""
    def size() -> float:
        try:
            return float(path.stat().st_size)
        except OSError:
            return 0.0
    RELEASE_LEDGER_BYTES.set_function(size)


def serve_metrics(address: str) -> tuple[Any, threading.Thread]:
    """Start the HTTP listener on ``HOST:PORT``; returns (server, thread)."""
    host, _, port = address.rpartition(":")
    try:
        return start_http_server(int(port), addr=host.strip("[]"), registry=REGISTRY)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {address}: {exc.strerror}") from None
