"""Broker settings from flags and TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_config


def test_flags_alone(tmp_path):
    config = load_config(None, {"tls_dir": tmp_path, "policy": tmp_path / "p.toml", "data_dir": tmp_path / "d"})
    assert config.listen == "127.0.0.1:50051"
    assert config.data_key_file == tmp_path / "data.key"
    assert config.crl_file == tmp_path / "crl.pem"


def test_file_paths_are_relative_to_the_file_and_flags_win(tmp_path):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "broker.toml"
    path.write_text('[broker]\nlisten = "0.0.0.0:7000"\ntls_dir = "pki"\npolicy = "policy.toml"\n'
                    'data_dir = "/var/lib/x"\nretention_days = 7\nauto_run = true\n')
    config = load_config(path, {"listen": "127.0.0.1:9000", "data_dir": None})
    assert config.listen == "127.0.0.1:9000"
    assert config.tls_dir == tmp_path / "etc" / "pki"
    assert config.data_dir == Path("/var/lib/x")
    assert config.retention_days == 7 and config.auto_run is True


@pytest.mark.parametrize("text, message", [
    ('listen = "x"\ntls_dir="a"\npolicy="b"\ndata_dir="c"', "must be HOST:PORT"),
    ('tls_dir = "a"', "missing setting"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nclk_bits = "1024"', "wrong type"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\ncolour = 1', "unknown setting"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nthreshold = 1.5', "threshold"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\ndask = "cluster"', "dask: Dask cluster 'cluster' is neither local:N"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\ndask = "local:0"', "from 1 to 64"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nmax_workers = 16', "max_concurrent_rpcs \\(64\\) must not exceed"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nmax_workers = 1\nmax_concurrent_rpcs = 1', "max_workers must be at least 2"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nanswer_wait_seconds = 0', "answer_wait_seconds must be positive"),
    ('tls_dir="a"\npolicy="b"\ndata_dir="c"\nmax_queued_audits = 0', "max_queued_audits must be at least 1"),
    ("not toml [", "not valid TOML"),
])
def test_bad_settings_are_explained(tmp_path, text, message):
    path = tmp_path / "broker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
