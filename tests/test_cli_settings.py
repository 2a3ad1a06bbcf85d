"""The command line a user meets first: fast overview, version, described options, settings from
the environment or a profile, and the listing commands."""

import argparse
import json
import subprocess
import sys

import pytest

from clients import cli
from clients.connection import ConnectionSettingsError, fill_connection

HEAVY = ("grpc", "duckdb", "matplotlib", "clkhash", "scipy", "pyarrow")


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-c", "import sys; from clients.cli import main; sys.exit(main())", *args],
                          capture_output=True, text=True, env=env)


def test_the_overview_imports_nothing_heavy():
    probe = ("import sys; from clients import cli; cli.build_parser(); "
             f"print([m for m in {HEAVY!r} if m in sys.modules])")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_help_lists_every_command_and_version_is_the_installed_one():
    helped = _run("--help")
    assert helped.returncode == 0 and all(name in helped.stdout for name in cli.COMMANDS)
    versioned = _run("--version")
    assert versioned.returncode == 0 and versioned.stdout.strip() == f"linkage {cli.version()}"
    assert cli.version()[0].isdigit()


def _parsers(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_option_and_command_is_described(command):
    undescribed = []
    for path, parser in _parsers(cli.build_parser(command), "linkage"):
        if path != "linkage" and not parser.description:
            undescribed.append(f"{path}: no description")
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                undescribed.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert undescribed == []


def _args(**given):
    return argparse.Namespace(needs_connection=True, broker=None, tls_dir=None, org=None, **given)


def test_connection_comes_from_flags_then_environment_then_profile(tmp_path, monkeypatch):
    profile = tmp_path / "profile.toml"
    profile.write_text('broker = "profile:1"\ntls_dir = "/p"\norg = "vdab"\n[profiles.test]\nbroker = "test:2"\n')
    monkeypatch.setenv("LINKAGE_PROFILE", str(profile))
    monkeypatch.setenv("LINKAGE_ORG", "statistics")
    args = _args()
    args.tls_dir = "/flag"
    fill_connection(args)
    assert (args.broker, args.tls_dir, args.org) == ("profile:1", "/flag", "statistics")
    monkeypatch.setenv("LINKAGE_PROFILE_NAME", "test")
    args = _args()
    fill_connection(args)
    assert (args.broker, args.tls_dir, args.org) == ("test:2", "/p", "statistics")


def test_a_missing_setting_says_each_way_to_give_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("LINKAGE_PROFILE", "LINKAGE_BROKER", "LINKAGE_TLS_DIR", "LINKAGE_ORG", "LINKAGE_PROFILE_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConnectionSettingsError, match="--broker .or LINKAGE_BROKER.*--org"):
        fill_connection(_args())


@pytest.mark.parametrize("content, message", [("broker = [", "cannot read"), ("brokr = 'x'", "unknown key")])
def test_a_bad_profile_is_named(tmp_path, monkeypatch, content, message):
    (tmp_path / "p.toml").write_text(content)
    monkeypatch.setenv("LINKAGE_PROFILE", str(tmp_path / "p.toml"))
    for name in ("LINKAGE_BROKER", "LINKAGE_TLS_DIR", "LINKAGE_ORG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConnectionSettingsError, match=message):
        fill_connection(_args())


def test_broker_commands_use_the_environment_end_to_end(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "LINKAGE_BROKER": "127.0.0.1:1", "LINKAGE_ORG": "vdab"}
    shown = _run("whoami", env=env)
    assert shown.returncode == 2 and "--tls-dir (or LINKAGE_TLS_DIR" in shown.stderr
    assert "LINKAGE_BROKER" not in shown.stderr.split("missing")[1].split(";")[0] or "--broker" not in shown.stderr


def test_sources_lists_the_columns_a_provider_needs():
    shown = _run("sources", "--json")
    listed = {s["name"]: s for s in json.loads(shown.stdout)}
    assert list(listed) == ["ksz", "vdab", "integration", "education"]
    assert {"column": "nt2_level", "kind": "category"}.items() <= listed["integration"]["payload"][3].items()
    header = _run("sources", "--header", "vdab").stdout.strip().split(",")
    assert header[:2] == ["record_id", "insz"] and "birth_date" in header and header[-1] == "education_level"
    refused = _run("sources", "police")
    assert refused.returncode == 2 and "known sources are" in refused.stderr


def test_registry_lists_what_a_request_can_name():
    listed = json.loads(_run("registry", "--json").stdout)
    assert "employment_rate" in {m["name"] for m in listed["measures"]}
    assert any(d["name"].startswith("origin_group:<definition>") for d in listed["dimensions"])
    assert {"name": "five_year"}.items() <= listed["age_bands"][3].items()
    refused = _run("registry", "measure")
    assert refused.returncode == 2 and "choose from populations" in refused.stderr
