"""Broker settings: from command-line flags, a TOML file (``--config``), or both.

Flags override the file. Paths in the file are relative to the file's folder. Every key
(with its default) is documented in ``deploy/broker.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from linkage.errors import LinkageError
from server.dask_cluster import check_where

MiB = 1024 * 1024
CLK_RETENTION = ("until-linked", "keep")


def _host_port(address: str) -> bool:
    host, _, port = address.rpartition(":")
    return bool(host) and port.isdigit()


class ConfigError(LinkageError):
    """The broker configuration is missing a setting or has a wrong one."""


@dataclass(frozen=True)
class BrokerConfig:
    listen: str = "127.0.0.1:50051"
    tls_dir: Path | None = None
    """Holds ca.crt, broker.crt, broker.key and (optionally) crl.pem."""
    policy: Path | None = None
    data_dir: Path | None = None
    data_key_file: Path | None = None
    """AES-256-GCM key for data at rest; default ``TLS_DIR/data.key``; $LINKAGE_DATA_KEY wins."""
    receipt_key_file: Path | None = None
    """Ed25519 key that signs upload receipts; default ``TLS_DIR/receipt.key``."""
    log_key_file: Path | None = None
    """Ed25519 key that signs audit tree heads; default ``TLS_DIR/log.key``."""
    crl_file: Path | None = None
    """Certificate revocation list (PEM), watched for changes; default ``TLS_DIR/crl.pem``.
    Required: without it, or once its next-update time has passed, the broker refuses to
    start (and refuses calls), since it could not tell a revoked certificate."""
    linkage_fingerprint: str = ""
    """The linkage-configuration fingerprint every extract must carry (an extract header's
    ``fingerprint``); empty: pinned by the first accepted extract."""
    clk_bits: int = 1024
    threshold: float | None = None
    """Similarity threshold for runs; unset lets the matching engine choose."""
    dask: str = ""
    """Where a run's exhaustive comparisons run, in partitions: ``local:N`` (N worker processes
    on this machine) or a Dask scheduler's address (``tcp://HOST:8786``; its workers hold CLKs:
    inside the broker's trust boundary only); empty: in the broker process."""
    auto_run: bool = False
    """Start a run by itself when every source has a current extract not yet linked."""
    max_chunk_bytes: int = 4 * MiB
    max_extract_bytes: int = 4096 * MiB
    max_workers: int = 64
    """Threads serving calls, as many as calls may run at once (``max_concurrent_rpcs``). A
    statistics call holds one for ``answer_wait_seconds`` at most: the release audit goes on in
    its own thread (with 16 threads and 50 requesters whose calls waited for their audits, a
    repeat answered from the ledger waited 133 s for a thread)."""
    max_concurrent_rpcs: int = 64
    minimum_cell_size: int = 5
    """System minimum k for released tables: an authorisation may raise it, never lower it."""
    audit_time_limit_seconds: float = 300.0
    """Longest a table's joint audit may take once it has its turn on the ledger (audits on one
    population take turns; the queue is bounded by ``max_queued_audits``); past it the request
    gets a retryable UNAVAILABLE and nothing is released or recorded."""
    answer_wait_seconds: float = 1.0
    """Longest a statistics call waits for its table's audit (less if the requester's deadline
    is nearer). Past it the call gets a retryable UNAVAILABLE saying the table is being audited,
    with the ``retry-after-seconds`` trailer; the audit goes on, and the same request asked
    again gets the table once it has passed (``linkage aggregate`` asks again by itself)."""
    max_queued_audits: int = 256
    """Statistics requests whose audits may be under way or waiting for their turn at once;
    more are told to retry (nothing recorded)."""
    retention_days: float = 30.0
    """Superseded extracts (and runs over them) are deleted this long after supersession."""
    upload_expiry_hours: float = 24.0
    """An unfinished upload that received nothing for this long is deleted."""
    upload_idle_seconds: float = 300.0
    """An upload stream that sends nothing for this long is cancelled (it stays resumable), so
    that a stalled client never holds one of the broker's threads."""
    retention_sweep_seconds: float = 3600.0
    """How often retention and upload expiry are applied (also at start-up)."""
    clk_retention: str = "until-linked"
    """``until-linked``: a completed run deletes the CLKs and exact tokens of the extracts
    it linked; ``keep``: they stay until the extract's retention ends (an exception the
    operator must justify, e.g. for a second run without fresh uploads)."""
    metrics_listen: str = ""
    """HOST:PORT of the Prometheus metrics listener (plain HTTP; bind it to localhost);
    empty: no metrics listener."""
    shutdown_grace_seconds: float = 30.0
    policy_poll_seconds: float = 2.0
    log_level: str = "INFO"

    def resolved(self) -> "BrokerConfig":
        """Fill in defaults that depend on other settings; check what is required."""
        missing = [name for name in ("tls_dir", "policy", "data_dir") if getattr(self, name) is None]
        if missing:
            flags = ", ".join("--" + name.replace("_", "-") for name in missing)
            raise ConfigError(f"missing setting(s) {flags}: give them as flags or in --config FILE")
        tls = Path(self.tls_dir)
        if not _host_port(self.listen):
            raise ConfigError(f"listen address {self.listen!r} must be HOST:PORT, e.g. 127.0.0.1:50051")
        if self.max_chunk_bytes < 1024 or self.max_chunk_bytes > 64 * MiB:
            raise ConfigError("max_chunk_bytes must be between 1 KiB and 64 MiB")
        if self.minimum_cell_size < 2:
            raise ConfigError("minimum_cell_size must be at least 2: a cell of one person is always disclosive")
        if self.clk_bits <= 0 or self.clk_bits % 8:
            raise ConfigError(f"clk_bits must be a positive multiple of 8, not {self.clk_bits}")
        if self.clk_retention not in CLK_RETENTION:
            raise ConfigError(f"clk_retention must be one of {', '.join(CLK_RETENTION)}, not {self.clk_retention!r}")
        if self.max_workers < 2:
            raise ConfigError("max_workers must be at least 2")
        if self.max_concurrent_rpcs > self.max_workers:
            raise ConfigError(
                f"max_concurrent_rpcs ({self.max_concurrent_rpcs}) must not exceed max_workers "
                f"({self.max_workers}): a call beyond the threads would queue behind the others, with "
                "no limit on its wait; raise max_workers or lower max_concurrent_rpcs")
        if self.audit_time_limit_seconds <= 0 or self.answer_wait_seconds <= 0:
            raise ConfigError("audit_time_limit_seconds and answer_wait_seconds must be positive")
        if self.max_queued_audits < 1:
            raise ConfigError("max_queued_audits must be at least 1")
        if self.upload_expiry_hours <= 0 or self.retention_sweep_seconds <= 0 or self.upload_idle_seconds <= 0:
            raise ConfigError("upload_expiry_hours, upload_idle_seconds and retention_sweep_seconds must be positive")
        if self.metrics_listen and not _host_port(self.metrics_listen):
            raise ConfigError(f"metrics_listen {self.metrics_listen!r} must be HOST:PORT, e.g. 127.0.0.1:9464")
        try:
            check_where(self.dask)
        except LinkageError as exc:
            raise ConfigError(f"dask: {exc}") from None
        if self.threshold is not None and not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must lie in (0, 1], not {self.threshold}")
        return replace(
            self,
            tls_dir=tls,
            data_key_file=self.data_key_file or tls / "data.key",
            receipt_key_file=self.receipt_key_file or tls / "receipt.key",
            log_key_file=self.log_key_file or tls / "log.key",
            crl_file=self.crl_file or tls / "crl.pem",
        )

    @property
    def max_message_bytes(self) -> int:
        """gRPC receive limit: one chunk plus room for the message envelope."""
        return self.max_chunk_bytes + 64 * 1024


_PATHS = {"tls_dir", "policy", "data_dir", "data_key_file", "receipt_key_file", "log_key_file", "crl_file"}
_KNOWN = {f.name for f in fields(BrokerConfig)}
_TYPES = {
    "listen": str, "linkage_fingerprint": str, "dask": str, "log_level": str, "auto_run": bool,
    "clk_retention": str, "metrics_listen": str, "upload_expiry_hours": (int, float),
    "upload_idle_seconds": (int, float),
    "retention_sweep_seconds": (int, float),
    "clk_bits": int, "max_chunk_bytes": int, "max_extract_bytes": int, "max_workers": int,
    "max_concurrent_rpcs": int, "minimum_cell_size": int, "audit_time_limit_seconds": (int, float),
    "answer_wait_seconds": (int, float), "max_queued_audits": int, "threshold": (int, float), "retention_days": (int, float),
    "shutdown_grace_seconds": (int, float), "policy_poll_seconds": (int, float),
}


def _check_type(where: str, key: str, value: Any) -> None:
    expected = _TYPES.get(key)
    if expected is None:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{where}: {key} must be a path (a string)")
        return
    wrong = not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool)
    if wrong:
        raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})")


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> BrokerConfig:
    """Read ``path`` (TOML, optional) and apply ``overrides`` (flags; ``None`` values ignored)."""
    values: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            document = tomllib.loads(file.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read the configuration {file} ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML ({exc})") from None
        section = document.get("broker", document)
        unknown = sorted(set(section) - _KNOWN)
        if unknown:
            raise ConfigError(
                f"{file}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}"
            )
        for key, value in section.items():
            _check_type(str(file), key, value)
            values[key] = (file.parent / value) if key in _PATHS else value
    for key, value in (overrides or {}).items():
        if value is not None:
            _check_type("command line", key, value)
            values[key] = Path(value) if key in _PATHS else value
    return BrokerConfig(**values).resolved()
