"""`make demo`: the whole job end to end on loopback, with the real commands.

1. synthesise a population and the four providers' extracts (with ground truth);
2. each provider encodes its extract with the shared linkage secret;
3. offline: `linkage match` on the encoded files and its quality against the truth;
4. `linkage pki init` (plus a certificate for the broker's operator), the example policy
   of deploy/policy.toml, start the broker (mutual TLS on 127.0.0.1);
5. four providers upload; the operator starts a linkage run and reads its quality figures,
   which the statistics service may not read;
6. the statistics service asks for the example tables (printed and plotted) and one request
   the policy does not allow (refused);
7. an auditor fetches the audit log, verifies it offline against a first checkpoint and
   lists it;
8. the broker stops.

Every step is a `linkage` command a person would type; this script only strings them
together. The size is set with DEMO_PERSONS (default 20000).
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from linkage.matching.quality import evaluate
from server.process import BrokerProcess

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "deploy" / "policy.toml"
"""The example policy: requester, run operator and auditor are separate organisations."""
OUT = REPO / "demo-out"
SOURCES = ("ksz", "vdab", "integration", "education")
PERSONS = int(os.environ.get("DEMO_PERSONS", "20000"))
console = Console(stderr=True)


def linkage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run one `linkage` command as a user would, echoing it."""
    console.print(f"[bold cyan]$ linkage {' '.join(args)}[/]")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "clients.cli", *args], cwd=REPO,
                          env={**os.environ, "COLUMNS": os.environ.get("COLUMNS", "150")})
    console.print(f"[dim]  ({time.monotonic() - started:.1f} s, exit {done.returncode})[/]")
    if check and done.returncode != 0:
        raise SystemExit(f"demo: 'linkage {args[0]}' failed with exit {done.returncode}")
    return done


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def offline_quality(groups_csv: Path, synth: Path) -> None:
    truth = {}
    with open(synth / "truth.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            truth[(row["source"], row["record_id"])] = row["person_id"]
    with open(groups_csv, newline="") as handle:
        groups = [(int(r["group_id"]), r["source"], r["record_id"]) for r in csv.DictReader(handle)]
    console.print("linkage quality against the generator's truth (per source pair):")
    for pair in evaluate(groups, truth, sources=SOURCES):
        s, t = pair.sources
        console.print(f"  {s:>11}-{t:<11} precision {pair.precision:.4f}  recall {pair.recall:.4f}  "
                      f"F1 {pair.f1:.4f}  ({pair.true_pairs:,} persons in both)")


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    synth, extracts, pki, requests = OUT / "synth", OUT / "extracts", OUT / "pki", OUT / "requests"
    extracts.mkdir()

    step(f"1. Synthetic population of {PERSONS:,} persons and four source extracts")
    linkage("synth", "--persons", str(PERSONS), "--seed", "2026", str(synth))

    step("2. Each provider encodes its extract (the secret is shared by providers only)")
    secret = OUT / "provider-secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o600)
    for source in SOURCES:
        linkage("encode", "--schema", "belgian-v4", "--secret-file", str(secret), "--source", source,
                "--id-column", "record_id", "--exact-column", "insz",
                *(("--replaced-column", "replaced_insz") if source == "ksz" else ()),
                str(synth / f"{source}.csv"), "-o", str(extracts / f"{source}.parquet"))

    step("3. Offline matching (what a provider does to tune a schema on known truth)")
    groups = OUT / "groups.csv"
    linkage("match", *(str(extracts / f"{s}.parquet") for s in SOURCES), "-o", str(groups))
    offline_quality(groups, synth)

    step("4. Development PKI, the example policy and the broker on 127.0.0.1 (mutual TLS)")
    linkage("pki", "init", str(pki))
    shutil.copyfile(POLICY, pki / "policy.toml")
    broker = BrokerProcess(pki, pki / "policy.toml", OUT / "broker-data")
    address = broker.address
    console.print(f"broker listening on {address}")
    try:
        step("5. Providers upload; the operator links them (its quality figures are not for requesters)")
        for source in SOURCES:
            linkage("upload", "--broker", address, "--tls-dir", str(pki), "--org", source,
                    "--quiet", str(extracts / f"{source}.parquet"))
        linkage("run", "--broker", address, "--tls-dir", str(pki), "--org", "operator")
        if linkage("runs", "--broker", address, "--tls-dir", str(pki), "--org", "statistics",
                   check=False).returncode == 0:
            raise SystemExit("demo: the statistics service could read the runs' quality figures")

        step("6. Aggregate tables for the statistics service")
        requests.mkdir()
        for name, body in REQUESTS.items():
            path = requests / f"{name}.toml"
            path.write_text(body)
            outcome = linkage("aggregate", "--broker", address, "--tls-dir", str(pki), "--org", "statistics",
                              "--request", str(path), "--format", "table", "--plot", str(OUT / f"{name}.png"),
                              check=name != "refused_request")
            if name == "refused_request" and outcome.returncode == 0:
                raise SystemExit("demo: a request outside the authorisation was answered")

        step("7. The auditor fetches the audit log, verifies it offline and lists it")
        log, checkpoint = OUT / "audit-log", OUT / "audit-checkpoint.json"
        linkage("audit", "fetch", "--broker", address, "--tls-dir", str(pki), "--org", "auditor",
                "--log", str(log), "--checkpoint", str(checkpoint), "--create")
        linkage("audit", "verify", "--log", str(log), "--public-key", str(pki / "log.pub"),
                "--checkpoint", str(checkpoint))
        linkage("audit", "show", "--log", str(log))
    finally:
        step("8. Stopping the broker")
        broker.terminate()
    console.print(f"[bold green]Demo finished.[/] Tables and charts are in {OUT}/")
    return 0


EXAMPLES = REPO / "linkage" / "aggregate" / "examples"
REQUESTS = {
    **{path.stem: path.read_text() for path in sorted(EXAMPLES.glob("*.toml"))},
    # Municipality is not among the dimensions this authorisation grants: refused and logged.
    "refused_request": """\
authorisation = "IVC-24-001"
population = "vdab"
period = 2022
measures = ["persons"]
dimensions = ["origin_group:sem", "municipality"]
reference_date = 2024-12-31
""",
}

if __name__ == "__main__":
    sys.exit(main())
