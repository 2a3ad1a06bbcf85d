"""The example configuration and policy in deploy/ are valid as shipped."""

from __future__ import annotations

from pathlib import Path

from server.config import load_config
from server.policy import load_policy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_example_configuration_loads():
    config = load_config(DEPLOY / "broker.toml")
    assert config.listen == "0.0.0.0:50051" and config.data_dir == Path("/var/lib/linkage")
    assert config.max_message_bytes > config.max_chunk_bytes


def test_example_policy_loads():
    policy = load_policy(DEPLOY / "policy.toml")
    assert policy.uploads == {source: {source} for source in ("ksz", "vdab", "integration", "education")}
    assert policy.authorisation("IVC-24-001").min_cell_size == 5
