"""Start-up and shut-down of the broker: ``serve(config) -> BrokerHandle``.

``serve`` recovers the data directory, opens the audit log, loads the policy, and starts a
gRPC server on one port, mutual TLS only, with the broker's services plus the standard
health and reflection services. It returns at once; ``linkage serve`` (or ``deploy/demo.py``)
then waits on the handle. The policy file is reloaded when it changes (polled) and on
``handle.reload_policy()``, which ``linkage serve`` calls on SIGHUP.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from linkage.auditlog import AuditLog
from linkage.auditlog import load_signing_key as load_log_key
from proto.linkage.v1 import audit_pb2, audit_pb2_grpc, broker_pb2, broker_pb2_grpc, statistics_pb2, statistics_pb2_grpc
from server import logs
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
from server.statistics import StatisticsService
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
RETENTION_SWEEP_SECONDS = 3600.0


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
        self.log.close()
        self.store.close()
        logs.event("broker.stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the broker has stopped (True) or ``timeout`` passes (False)."""
        return not self.server.wait_for_termination(timeout)


def _watch(handle: BrokerHandle) -> None:
    """Reload the policy when its file changes; sweep retention now and then."""
    config = handle.config
    since_sweep = 0.0
    while not handle._stopping.wait(config.policy_poll_seconds):
        if handle.policies.changed_on_disk():
            handle.reload_policy("reloaded after the file changed")
        since_sweep += config.policy_poll_seconds
        if since_sweep >= RETENTION_SWEEP_SECONDS:
            since_sweep = 0.0
            _sweep(handle.store, config)


def _sweep(store: Store, config: BrokerConfig) -> None:
    deleted = store.apply_retention(config.retention_days)
    if deleted:
        logs.event("retention.deleted", extracts=len(deleted), retention_days=config.retention_days)


def serve(config: BrokerConfig) -> BrokerHandle:
    """Start the broker described by ``config`` (already resolved) and return its handle."""
    logs.configure(config.log_level)
    store = Store(config.data_dir, load_data_key(config.data_key_file))
    log = None
    try:
        log = AuditLog(store.audit_log_path, load_log_key(config.log_key_file))
        return _start(config, store, log)
    except BaseException:
        if log is not None:
            log.close()
        store.close()
        raise


def _start(config: BrokerConfig, store: Store, log: AuditLog) -> BrokerHandle:
    orphans, interrupted = store.recover()
    policies = PolicyStore(config.policy)
    recorder = Recorder(log, lambda: policies.current.sha256)
    recorder.policy(policies.current.sha256, "loaded at start-up")
    for run in interrupted:
        recorder.run(run.run_id, run.parameters, {}, state="interrupted", error=run.error)
    _sweep(store, config)
    linkage = LinkageConfiguration(store, recorder, config.linkage_fingerprint)
    receipt_key = load_signing_key(config.receipt_key_file)
    guard = Guard(policies, RevocationList(config.crl_file, config.tls_dir / "ca.crt"), recorder)
    runs = RunManager(store, recorder, config, linkage)

    server = grpc.server(
        ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="rpc"),
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
    statistics_pb2_grpc.add_StatisticsServiceServicer_to_server(StatisticsService(guard, store, recorder, config.data_dir, config.minimum_cell_size), server)
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
    server.start()
    handle = BrokerHandle(config, server, port, store, log, recorder, policies, runs, health_servicer,
                          threading.Event())
    threading.Thread(target=_watch, args=(handle,), name="policy-watch", daemon=True).start()
    logs.event("broker.listening", address=handle.address, port=port, orphan_files_removed=orphans,
               runs_interrupted=len(interrupted))
    runs.maybe_auto_run()
    return handle
