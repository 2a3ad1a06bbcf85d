"""The broker's Prometheus listener (``metrics_listen``)."""

from __future__ import annotations

import urllib.request


def test_the_metrics_listener_shows_the_release_audits(start_broker):
    handle = start_broker(metrics_listen="127.0.0.1:0")
    url = f"http://127.0.0.1:{handle.metrics_server.server_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    assert "linkage_broker_release_audits_under_way 0.0" in text
    assert "linkage_broker_release_audit_duration_seconds_count" in text
    assert "linkage_broker_requests_total" in text or "linkage_broker_requests" in text
