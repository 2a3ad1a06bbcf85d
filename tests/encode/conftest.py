"""Fixtures for the encoding tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import SECRET


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "linkage.secret"
    path.write_bytes(SECRET + b"\n")
    path.chmod(0o600)
    return path
