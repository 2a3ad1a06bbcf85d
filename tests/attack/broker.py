"""A real broker for the end-to-end attacks: a PKI with several requester organisations,
extracts of a synthetic population uploaded by the four providers, runs by the operator,
and requests asked through the ``linkage`` command line as a statistician asks them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clients.broker_cmds import connect, start_run, upload_extract
from clients.cli import main
from linkage.aggregate.compute import LinkedData
from linkage.auditlog import generate_log_keypair
from linkage.extract import Extract, ExtractHeader, write_extract
from linkage.signing_keys import generate_keypair
from linkage.sources import PAYLOAD_VERSION, source_spec
from server import pki as pki_module
from server.keys import generate_data_key
from server.policy import example_policy, load_policy

from tests.broker.helpers import CLK_BITS, FINGERPRINT


def authorisation(holder: str) -> str:
    """A policy entry for ``holder`` (the example policy's own is IVC-24-001 for statistics)."""
    return "\n".join([
        "", "[[authorisations]]", f'id = "AUTH-{holder}"', f'holder = "{holder}"',
        'purpose = "Origin gap, second team"', 'sources = ["ksz", "vdab", "integration", "education"]',
        'measures = ["persons", "employment_rate", "outflow_to_work_12m", "integration_completion_rate"]',
        'dimensions = ["origin_group", "origin_category", "sex", "age_band", "province", "period"]',
        "valid_from = 2024-01-01", "valid_until = 2099-12-31", "min_cell_size = 5",
        "period_from = 2019", "period_until = 2099", ""])


def make_pki(folder: Path, extra_requesters: Sequence[str]) -> Path:
    """``linkage pki init`` for the default organisations and the extra requesters, the broker's
    keys, and the example policy with an authorisation for each extra requester."""
    organisations = (*pki_module.DEFAULT_ORGANISATIONS, *extra_requesters)
    pki_module.init_pki(folder, organisations)
    generate_log_keypair(folder)
    generate_keypair(folder, "receipt")
    generate_data_key(folder / "data.key")
    policy = example_policy(organisations) + "".join(authorisation(h) for h in extra_requesters)
    (folder / "policy.toml").write_text(policy)
    return folder


def write_extracts(data: LinkedData, folder: Path, seed: int, tokened: float = 0.0) -> list[Path]:
    """One extract per source: CLKs of each person (random bits, a little noise per record),
    the declared payload exactly as the truth holds it, and record references that name the
    person (``ksz-17``), so that a later extract of the same persons keeps them. A share
    ``tokened`` of the persons (the same ones in every call with the same seed) carries a
    national-number token."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    largest = max(int(np.max(t["entity_id"].to_numpy())) for t in data.tables.values()) + 1
    people = rng.random((largest, CLK_BITS)) < 0.4
    has_token = rng.random(largest) < tokened
    noise = np.random.default_rng(seed + 1)
    paths = []
    for source, table in sorted(data.tables.items()):
        entities = table["entity_id"].to_numpy()
        bits = people[entities] ^ (noise.random((len(entities), CLK_BITS)) < 0.02)
        spec = source_spec(source)
        payload = {a.name: table[a.name].to_pylist() for a in spec.payload}
        header = ExtractHeader(source=source, fingerprint=FINGERPRINT, schema_fingerprint="sha256:test",
                               normalisation_version="test", clk_bits=CLK_BITS, record_count=len(entities),
                               created="2024-06-01T00:00:00+00:00", payload_version=PAYLOAD_VERSION,
                               payload_columns=tuple(payload))
        tokens = [hashlib.sha256(f"insz-{e}".encode()).digest() if has_token[e] else None
                  for e in entities.tolist()]
        path = folder / f"{source}.parquet"
        write_extract(path, Extract(header, [f"{source}-{e}" for e in entities.tolist()],
                                    np.ascontiguousarray(np.packbits(bits, axis=1)), tokens, payload))
        paths.append(path)
    return paths


def link(handle, pki: Path, extracts: Sequence[Path], timeout: float = 120) -> str:
    """Upload each extract as its provider, start a run as the policy's run operator and wait
    until it completed; its id."""
    for path in extracts:
        with connect(handle.address, pki, path.stem) as channel:
            upload_extract(channel, path)
    operator = sorted(load_policy(pki / "policy.toml").run_operators)[0]
    with connect(handle.address, pki, operator) as channel:
        run_id = start_run(channel).run_id
    deadline = time.monotonic() + timeout
    while handle.store.run(run_id).state == "running":
        assert time.monotonic() < deadline, "the linkage run did not finish"
        time.sleep(0.2)
    assert handle.store.run(run_id).state == "completed", handle.store.run(run_id).error
    return run_id


def ask(handle, pki: Path, requester: str, folder: Path, name: str, body: str, *args: str) -> int:
    """``linkage aggregate`` as ``requester`` with the request ``body`` (its authorisation added)."""
    request = folder / f"{name}.toml"
    request.write_text(f'authorisation = "{"IVC-24-001" if requester == "statistics" else "AUTH-" + requester}"\n'
                       + body)
    return main(["aggregate", "--broker", handle.address, "--tls-dir", str(pki), "--org", requester,
                 "--request", str(request), *args])
