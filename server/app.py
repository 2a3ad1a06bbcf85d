"""Start-up and shut-down of the broker: ``serve(config) -> BrokerHandle``.

``serve`` recovers the data directory, opens the audit log, loads the policy, and starts a
gRPC server on one port, mutual TLS only, with the broker's services plus the standard
health and reflection services. It returns at once; ``linkage serve`` (or ``deploy/demo.py``)
then waits on the handle. The policy file is reloaded when it changes (polled) and on
``handle.reload_policy()``, which ``linkage serve`` calls on SIGHUP. Retention (superseded
extracts, unfinished uploads) is applied at start-up and every ``retention_sweep_seconds``.
With ``metrics_listen`` set, Prometheus metrics are served there (plain HTTP, its own port).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from linkage.auditlog import AuditLog
from linkage.auditlog import load_signing_key as load_log_key
from proto.linkage.v1 import audit_pb2, audit_pb2_grpc, broker_pb2, broker_pb2_grpc, statistics_pb2, statistics_pb2_grpc
from server import logs, metrics, native_log
from server.calls import CallInterceptor
from server.audit_service import AuditService
from server.config import BrokerConfig, ConfigError
from server.events import Recorder
from server.guard import Guard
from server.info_service import BrokerService
from linkage.signing_keys import load_signing_key
from server.keys import load_data_key
from server.linkage_config import LinkageConfiguration
from server.policy import PolicyError, PolicyStore
from server.run_service import RunService
from server.runs import RunManager
from server.statistics import LEDGER_FILE, StatisticsService
from server.storage import Store
from server.tls import RevocationList, server_credentials
from server.upload_service import UploadService

SERVICE_NAMES = (
    broker_pb2.DESCRIPTOR.services_by_name["BrokerService"].full_name,
    broker_pb2.DESCRIPTOR.services_by_name["UploadService"].full_name,
    broker_pb2.DESCRIPTOR.services_by_name["RunService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    statistics_pb2.DESCRIPTOR.services_by_name["StatisticsService"].full_name,
)
MAX_SEND_BYTES = 64 * 1024 * 1024


@dataclass
class BrokerHandle:
    """A running broker. ``port`` is the bound port (useful with ``listen = "host:0"``)."""

    config: BrokerConfig
    server: grpc.Server
    port: int
    store: Store
    log: AuditLog
    recorder: Recorder
    policies: PolicyStore
    runs: RunManager
    health: health.HealthServicer
    _stopping: threading.Event
    metrics_server: Any = None

    @property
    def address(self) -> str:
        host = self.config.listen.rpartition(":")[0]
        return f"{host}:{self.port}"

    def reload_policy(self, reason: str = "reloaded") -> bool:
        """Re-read the policy file; returns True when it changed. A bad file is recorded
        and ignored (the previous policy stays in force)."""
        try:
            previous, current = self.policies.reload()
        except PolicyError as exc:
            try:
                digest = hashlib.sha256(self.policies.path.read_bytes()).hexdigest()
            except OSError:
                digest = hashlib.sha256(b"").hexdigest()
            self.recorder.policy(digest, f"rejected: {exc}; the previous policy stays in force",
                                 in_force=self.policies.current.sha256)
            logs.event("policy.rejected", logging.ERROR, error=str(exc))
            return False
        if current.sha256 == previous.sha256:
            return False
        self.recorder.policy(current.sha256, reason, previous=previous.sha256)
        return True

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, let in-flight calls finish for ``grace`` seconds, stop a
        running run (recorded as interrupted), close the stores."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        logs.event("broker.stopping", grace_seconds=grace)
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.runs.shutdown(timeout=max(grace, 5.0))
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
        self.log.close()
        self.store.close()
        logs.event("broker.stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the broker has stopped (True) or ``timeout`` passes (False)."""
        return not self.server.wait_for_termination(timeout)


def _watch(handle: BrokerHandle) -> None:
    """Reload the policy when its file changes; sweep retention now and then."""
    config = handle.config
    next_sweep = time.monotonic() + config.retention_sweep_seconds
    while not handle._stopping.wait(min(config.policy_poll_seconds, config.retention_sweep_seconds)):
        if handle.policies.changed_on_disk():
            handle.reload_policy("reloaded after the file changed")
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + config.retention_sweep_seconds
            try:
                _sweep(handle.store, handle.recorder, handle.runs, config)
            except Exception as exc:  # noqa: BLE001 - the watcher must keep running
                logs.event("retention.failed", logging.ERROR, error=f"{type(exc).__name__}: {exc}")


def _sweep(store: Store, recorder: Recorder, runs: RunManager, config: BrokerConfig) -> None:
    runs.delete_linked_clks()
    deleted = store.apply_retention(config.retention_days)
    if deleted:
        logs.event("retention.deleted", extracts=len(deleted), retention_days=config.retention_days)
    expired = store.expire_partials(config.upload_expiry_hours * 3600)
    if expired:
        recorder.note("uploads_expired", count=len(expired), idle_hours=config.upload_expiry_hours,
                      organisations=sorted({name.rsplit("-", 1)[0] for name in expired}))


def serve(config: BrokerConfig) -> BrokerHandle:
    """Start the broker described by ``config`` (already resolved) and return its handle."""
    logs.configure(config.log_level)
    revocations = RevocationList(config.crl_file, config.tls_dir / "ca.crt")
    problem = revocations.startup_problem()
    if problem:
        raise ConfigError(f"{problem}; the broker does not start without a current revocation list")
    native_log.silence_highs_banner()
    store = Store(config.data_dir, load_data_key(config.data_key_file))
    log = None
    try:
        log = AuditLog(store.audit_log_path, load_log_key(config.log_key_file))
        return _start(config, store, log, revocations)
    except BaseException:
        if log is not None:
            log.close()
        store.close()
        raise


def _start(config: BrokerConfig, store: Store, log: AuditLog, revocations: RevocationList) -> BrokerHandle:
    orphans, interrupted = store.recover()
    policies = PolicyStore(config.policy)
    recorder = Recorder(log, lambda: policies.current.sha256)
    recorder.policy(policies.current.sha256, "loaded at start-up")
    for run in interrupted:
        recorder.run(run.run_id, run.parameters, {}, state="interrupted", error=run.error)
    metrics.LEDGER_ENTRIES.set(log.size())
    metrics.watch_release_ledger(config.data_dir / LEDGER_FILE)
    linkage = LinkageConfiguration(store, recorder, config.linkage_fingerprint)
    receipt_key = load_signing_key(config.receipt_key_file)
    guard = Guard(policies, revocations, recorder)
    runs = RunManager(store, recorder, config, linkage)
    _sweep(store, recorder, runs, config)

    server = grpc.server(
        ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="rpc"),
        interceptors=[CallInterceptor(guard, SERVICE_NAMES)],
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        options=[
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", MAX_SEND_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    broker_pb2_grpc.add_BrokerServiceServicer_to_server(
        BrokerService(guard, config, linkage, receipt_key.public_key()), server)
    broker_pb2_grpc.add_UploadServiceServicer_to_server(
        UploadService(guard, store, recorder, config, receipt_key, linkage, runs.maybe_auto_run), server)
    broker_pb2_grpc.add_RunServiceServicer_to_server(RunService(guard, store, runs), server)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditService(guard, log), server)
    statistics = StatisticsService(guard, store, recorder, config.data_dir, config.minimum_cell_size,
                                   audit_time_limit=config.audit_time_limit_seconds,
                                   answer_wait=config.answer_wait_seconds,
                                   max_queued_audits=config.max_queued_audits)
    metrics.RELEASE_AUDITS.set_function(statistics.audits.under_way)
    statistics_pb2_grpc.add_StatisticsServiceServicer_to_server(statistics, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    try:
        port = server.add_secure_port(config.listen, server_credentials(config.tls_dir))
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {config.listen}: {exc}") from None
    if port == 0:
        raise ConfigError(f"cannot listen on {config.listen}: the address is in use or not local")
    metrics_server = metrics.serve_metrics(config.metrics_listen)[0] if config.metrics_listen else None
    server.start()
    handle = BrokerHandle(config, server, port, store, log, recorder, policies, runs, health_servicer,
                          threading.Event(), metrics_server)
    threading.Thread(target=_watch, args=(handle,), name="policy-watch", daemon=True).start()
    logs.event("broker.listening", address=handle.address, port=port, orphan_files_removed=orphans,
               runs_interrupted=len(interrupted),
               metrics=(f"{config.metrics_listen.rpartition(':')[0]}:{metrics_server.server_port}"
                        if metrics_server else None))
    runs.maybe_auto_run()
    return handle
