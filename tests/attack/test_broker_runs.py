"""Issue 20, step 4, end to end: next year's run holds mostly the same persons.

Through a real broker: the providers upload this year's extracts (a population without three
newcomers of a rare nationality), the operator links them and requester ``statistics`` asks
for persons by origin, sex and age; next year's extracts hold the same persons plus the
newcomers (most persons carry a national-number token, the rest, newcomers included, only a
record reference their provider keeps), the operator links them again, and requester
``analyst-b`` asks for the same table. The attacker holds both answers and assumes next year's
persons are this year's plus newcomers: it must not derive the newcomers (or any hidden figure)
by difference, because the broker keys persons the same way in both runs.
"""

from __future__ import annotations

import json

import pytest

from linkage.aggregate.compute import LinkedData
from linkage.aggregate.truth import truth_linked_data
from linkage.synth import generate
from server.app import serve
from server.config import load_config

from tests.attack.attacker import attack
from tests.attack.broker import ask, link, make_pki, write_extracts
from tests.attack.population import NEWCOMERS, newcomers, without
from tests.attack.releases import from_answer

PERSONS = 2_500
SEED = 5_357
"""Not a seed any other test or benchmark uses."""
TABLE = ('population = "ksz"\nperiod = 2022\nmeasures = ["persons"]\n'
         'dimensions = ["origin_group:sem", "sex", "age_band:broad"]\nreference_date = 2023-12-31\n')


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-runs")
    generate(PERSONS, SEED, root / "synth")
    everyone = truth_linked_data(root / "synth")
    this_year = without(everyone, newcomers(everyone), "this-year")
    pki = make_pki(root / "pki", ["analyst-b"])
    handle = serve(load_config(None, {"listen": "127.0.0.1:0", "tls_dir": pki, "policy": pki / "policy.toml",
                                      "data_dir": root / "data", "shutdown_grace_seconds": 1.0}))
    answers = []
    try:
        for name, data, requester in (("this-year", this_year, "statistics"),
                                      ("next-year", everyone, "analyst-b")):
            link(handle, pki, write_extracts(data, root / name, SEED, tokened=0.8))
            out = root / f"{name}.json"
            assert ask(handle, pki, requester, root, name, TABLE, "--format", "json", "-o", str(out)) == 0
            answers.append((requester, name, json.loads(out.read_text())))
        yield answers, {"this-year": LinkedData(this_year.tables, "this-year"),
                        "next-year": LinkedData(everyone.tables, "next-year")}
    finally:
        handle.stop(0.5)


def test_the_newcomers_cannot_be_derived_from_two_runs(two_runs):
    answers, truth = two_runs
    releases = [from_answer(answer, requester, run) for requester, run, answer in answers]
    rows = [truth[run].tables["ksz"].num_rows for run in ("this-year", "next-year")]
    assert rows[1] - rows[0] == NEWCOMERS                       # the two runs differ by them
    outcome = attack(releases, truth)
    print(f"two runs through the broker: {outcome.summary()}")
    assert outcome.hidden and outcome.numbers_defeated, outcome.summary() + "\n" + "\n".join(
        f"{f.what}: true {f.truth}, attacker [{f.low}, {f.high}]" for f in (outcome.broken + outcome.derived)[:8])
