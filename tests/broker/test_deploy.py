"""deploy/ checked against the command line, the configuration and what `linkage pki init` writes.

No container engine or systemd runs here. So the Dockerfile, compose file and unit are read,
and every path, flag, user and mount they name is checked against `linkage serve --help`,
deploy/broker.toml and the repository; then the files are laid out exactly as compose.yaml
mounts them (deploy/broker-files.sh on a real `pki init` folder), the real broker is started
on that layout with deploy/broker.toml, the health check probes it with the probe certificate,
and the example policy's roles are called over mutual TLS.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from clients.cli import main
from server.config import BrokerConfig, load_config
from server.policy import authorise_audit, authorise_run, authorise_run_read, load_policy

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CREDENTIALS = PurePosixPath("/run/credentials/linkage-broker.service")
PATH_SETTINGS = ("tls_dir", "policy", "data_dir", "data_key_file", "receipt_key_file", "log_key_file", "crl_file")


# -- reading the deployment files ------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def instruction(name: str) -> list[str]:
    return [args for instr, args in dockerfile() if instr == name]


def copies() -> dict[str, str]:
    """COPY source -> destination for copies from the build context."""
    pairs = [args.split() for args in instruction("COPY") if not args.startswith("--from")]
    return {source: destination for source, destination in pairs}


def healthcheck_command() -> list[str]:
    (args,) = instruction("HEALTHCHECK")
    return json.loads(args[args.index("CMD") + 3:])


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["broker"]


def unit() -> dict[str, list[str]]:
    """``Section.Key`` -> values (a key may repeat, as LoadCredential does)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / "linkage-broker.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(f"{section}.{key}", []).append(value)
    return values


def settings() -> dict:
    return tomllib.loads((DEPLOY / "broker.toml").read_text())["broker"]


def sysusers() -> list[list[str]]:
    lines = (DEPLOY / "sysusers-linkage.conf").read_text().splitlines()
    return [shlex.split(line) for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def serve_flags() -> set[str]:
    """The options `linkage serve --help` lists."""
    shown = subprocess.run([sys.executable, "-m", "clients.cli", "serve", "--help"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", shown))


def flags_of(command: list[str]) -> set[str]:
    return {word for word in command if word.startswith("--")}


def serve_command(command: list[str]) -> list[str]:
    """The arguments after `linkage serve`, checked to be that command."""
    assert Path(command[0]).name == "linkage" and command[1] == "serve", command
    return command[2:]


def config_path(command: list[str]) -> str:
    return command[command.index("--config") + 1]


# -- the Dockerfile, compose file and unit against the CLI and the configuration ------------


def test_image_runs_linkage_serve_with_the_configuration_it_copies(serve_flags):
    (entrypoint,) = instruction("ENTRYPOINT")
    command = json.loads(entrypoint)
    assert flags_of(serve_command(command)) <= serve_flags
    assert copies()["deploy/broker.toml"] == config_path(command)
    for source in copies():
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
    listen_port = settings()["listen"].rpartition(":")[2]
    assert listen_port in instruction("EXPOSE")[0].split()


def test_image_user_is_uid_10001_and_the_host_user_is_the_same():
    (user,) = instruction("USER")
    assert user == "10001:10001" == compose()["user"]
    (create,) = [args for args in instruction("RUN") if "useradd" in args]
    assert "--uid 10001" in create and "--gid 10001" in create and "linkage" in create
    assert ["g", "linkage", "10001"] in sysusers()
    (sysuser,) = [line for line in sysusers() if line[0] == "u"]
    assert sysuser[1] == "linkage" and sysuser[2].split(":")[0] == "10001"
    assert sysuser[4] == settings()["data_dir"]
    assert unit()["Service.User"] == ["linkage"] and unit()["Service.Group"] == ["linkage"]


def test_health_check_probes_with_the_mounted_probe_certificate(serve_flags):
    command = healthcheck_command()
    assert command == compose()["healthcheck"]["test"][1:]
    assert copies()["deploy/healthcheck.py"] == command[1]
    options = dict(zip(command[2::2], command[3::2]))
    assert options["--tls-dir"] == settings()["tls_dir"] and options["--org"] == "probe"
    assert options["--broker"].rpartition(":")[2] == settings()["listen"].rpartition(":")[2]


def mounts() -> dict[PurePosixPath, str]:
    """Container path -> host side (a path relative to deploy/, or a volume's name)."""
    result = {}
    for volume in compose()["volumes"]:
        host, container, *_ = volume.split(":")
        result[PurePosixPath(container)] = host
    for secret in compose()["secrets"]:
        result[PurePosixPath(secret["target"])] = "secret:" + secret["source"]
    return result


def mount_of(path: str) -> tuple[PurePosixPath, str]:
    """The mount a container path lies in; fails when it lies in none."""
    target = PurePosixPath(path)
    found = [(mount, host) for mount, host in mounts().items() if target == mount or mount in target.parents]
    assert found, f"{path} is in no volume or secret of compose.yaml"
    return max(found, key=lambda item: len(item[0].parts))


def test_compose_mounts_every_path_of_the_configuration_as_a_directory_or_secret():
    config = load_config(DEPLOY / "broker.toml")
    for name in PATH_SETTINGS:
        path = PurePosixPath(getattr(config, name))
        mount, host = mount_of(str(path))
        if name in ("data_key_file", "receipt_key_file", "log_key_file"):
            assert host.startswith("secret:") and mount == path, name
        elif name == "data_dir":
            assert not host.startswith(("./", "/")), "data belongs in a named volume"
        else:
            # a bind-mounted directory, never the file alone: a replaced policy or CRL (a new
            # inode) stays visible in the container
            assert host.startswith("./") and mount == (path if name == "tls_dir" else path.parent), name
    secrets = compose()["secrets"]
    for secret in secrets:
        assert PurePosixPath(secret["target"]).parent == CREDENTIALS
    files = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["secrets"]
    assert {s["source"] for s in secrets} == set(files)
    assert all(entry["file"].startswith("./broker/secrets/") for entry in files.values())


def test_compose_builds_this_image_and_outlasts_the_graceful_stop(serve_flags):
    service = compose()
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert flags_of(service.get("command", [])) <= serve_flags
    assert int(service["stop_grace_period"].rstrip("s")) > BrokerConfig.shutdown_grace_seconds
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


def test_systemd_unit_credentials_are_the_files_broker_toml_reads(serve_flags):
    service = unit()
    (start,) = service["Service.ExecStart"]
    command = start.split()
    assert flags_of(serve_command(command)) <= serve_flags
    assert config_path(command) == "/etc/linkage/broker.toml" == copies()["deploy/broker.toml"]
    loaded = {line.split(":", 1)[0] for line in service["Service.LoadCredential"]}
    configured = {PurePosixPath(settings()[name]) for name in ("data_key_file", "receipt_key_file", "log_key_file")}
    assert {CREDENTIALS / name for name in loaded} == configured
    assert service["Service.StateDirectory"] == ["linkage"] and settings()["data_dir"] == "/var/lib/linkage"
    assert settings()["data_dir"] in service["Service.ReadWritePaths"]
    read_only = PurePosixPath(service["Service.ReadOnlyPaths"][0])
    assert read_only in PurePosixPath(settings()["tls_dir"]).parents
    assert read_only in PurePosixPath(settings()["policy"]).parents
    assert service["Service.ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert int(service["Service.TimeoutStopSec"][0]) > BrokerConfig.shutdown_grace_seconds


def test_example_configuration_loads_and_shows_every_setting():
    config = load_config(DEPLOY / "broker.toml")
    assert config.listen == "0.0.0.0:50051" and config.data_dir == Path("/var/lib/linkage")
    assert config.max_message_bytes > config.max_chunk_bytes
    text = (DEPLOY / "broker.toml").read_text()
    undocumented = [f.name for f in dataclasses.fields(BrokerConfig) if not re.search(rf"^#? ?{f.name} =", text, re.M)]
    assert not undocumented, f"deploy/broker.toml does not show {undocumented}"


# -- the build context -----------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _glob(pattern.lstrip("!").strip("/"))
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_build_context_has_what_the_image_needs_and_no_secret_or_environment():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    needed = [*(source for source in copies() if source != "."), "pyproject.toml", "setup.py", "README.md", "linkage/matching/_dice.c",
              "linkage/__init__.py", "server/app.py", "clients/cli.py", "proto/linkage/v1/broker_pb2.py",
              *(str(p.relative_to(REPO)) for p in (REPO / "linkage").rglob("*.toml"))]
    assert [path for path in needed if dockerignored(path, patterns)] == []
    planted = [".venv/bin/python", "demo-out/provider-secret", "demo-out/pki/ca.key", "deploy/broker/secrets/data.key",
               "deploy/broker/tls/broker.key", "deploy/pki/auditor.key", "deploy/pki/crl.pem", "linkage.secret",
               "linkage/matching/_dice.cpython-311-x86_64-linux-gnu.so", "server/__pycache__/app.cpython-311.pyc",
               "tests/data/sample.csv", "bench-out/ksz.parquet", "broker-data/broker.db", "linkage/stray.key",
               ".git/config", "build/audit-venv/bin/pip"]
    assert [path for path in planted if not dockerignored(path, patterns)] == []
    sent = []
    for folder, subfolders, files in os.walk(REPO):
        relative = Path(folder).relative_to(REPO).as_posix()
        subfolders[:] = [d for d in subfolders if d not in (".git", ".venv", "build")]
        sent += [f"{relative}/{name}".lstrip("./") for name in files
                 if not dockerignored(f"{relative}/{name}".lstrip("./"), patterns)]
    assert not [path for path in sent if path.endswith((".key", ".secret", ".parquet", ".db", ".so"))]
    assert not [path for path in sent if path.split("/")[0] in ("tests", "bench", "demo-out", "bench-out", "docs")]


# -- the example policy -----------------------------------------------------------------------


def test_example_policy_keeps_requester_operator_and_auditor_apart():
    policy = load_policy(DEPLOY / "policy.toml")
    assert policy.uploads == {source: {source} for source in ("ksz", "vdab", "integration", "education")}
    assert policy.authorisation("IVC-24-001").min_cell_size == 5
    holders = {grant.holder for grant in policy.authorisations}
    assert holders == {"statistics"} and holders.isdisjoint(policy.run_operators | policy.auditors)
    assert not authorise_run(policy, "statistics").allowed and authorise_run(policy, "operator").allowed
    for reader, allowed in (("statistics", False), ("operator", True), ("auditor", True), ("ksz", False)):
        assert authorise_run_read(policy, reader).allowed is allowed, reader
    assert not authorise_audit(policy, "operator").allowed and authorise_audit(policy, "auditor").allowed


# -- the whole layout, served ------------------------------------------------------------------


@pytest.fixture
def deployment(tmp_path):
    """`pki init` + the two extra certificates + deploy/broker-files.sh, and the broker started
    from deploy/broker.toml with every container path mapped to where compose.yaml mounts it."""
    from server.app import serve

    pki, deploy = tmp_path / "pki", tmp_path / "deploy"
    assert main(["pki", "init", str(pki)]) == 0
    assert main(["pki", "issue", str(pki), "probe"]) == 0
    owner = f"{os.getuid()}:{os.getgid()}"
    laid_out = subprocess.run(["sh", str(DEPLOY / "broker-files.sh"), str(pki), str(deploy / "broker"), owner],
                              capture_output=True, text=True)
    assert laid_out.returncode == 0, laid_out.stderr
    host_of = {}
    for mount, host in mounts().items():
        if host.startswith("secret:"):
            name = host.split(":", 1)[1]
            files = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["secrets"]
            host_of[mount] = deploy / files[name]["file"]
        elif host.startswith("./"):
            host_of[mount] = deploy / host
        else:
            host_of[mount] = tmp_path / "volume" / host
    configured = load_config(DEPLOY / "broker.toml")

    def on_host(path: Path) -> Path:
        mount, _ = mount_of(str(path))
        return host_of[mount] / PurePosixPath(path).relative_to(mount)

    overrides = {name: str(on_host(getattr(configured, name))) for name in PATH_SETTINGS}
    for name in PATH_SETTINGS:
        if name != "data_dir":
            assert Path(overrides[name]).exists(), f"{name}: nothing at {getattr(configured, name)} in the container"
    handle = serve(load_config(DEPLOY / "broker.toml", {
        **overrides, "listen": "127.0.0.1:0", "policy_poll_seconds": 0.2, "shutdown_grace_seconds": 1.0}))
    yield handle, pki, Path(overrides["tls_dir"]), Path(overrides["policy"])
    handle.stop(0.5)


def healthcheck_main():
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", DEPLOY / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_layout_serves_health_to_the_probe_and_keeps_roles_apart(deployment, capsys):
    handle, pki, tls, policy = deployment
    probe = healthcheck_main()
    assert probe(["--broker", handle.address, "--tls-dir", str(tls), "--org", "probe"]) == 0
    assert "SERVING" in capsys.readouterr().out
    assert probe(["--broker", handle.address, "--tls-dir", str(tls), "--org", "operator"]) == 1  # no such key there
    capsys.readouterr()

    def runs(org: str) -> tuple[int, str]:
        status = main(["runs", "--broker", handle.address, "--tls-dir", str(pki), "--org", org, "--json"])
        return status, capsys.readouterr().err

    assert runs("operator")[0] == 0 and runs("auditor")[0] == 0
    status, err = runs("statistics")
    assert status != 0 and "neither a run operator nor an auditor" in err

    # an editor saves the policy by replacing the file (a new inode) in the mounted directory
    replaced = policy.with_name(".policy.toml.swp")
    replaced.write_text(policy.read_text().replace('run_operators = ["operator"]', "run_operators = []"))
    os.replace(replaced, policy)
    deadline = time.monotonic() + 10
    while runs("operator")[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runs("operator")[0] != 0, "the replaced policy was never read"
