"""Issue 19, end to end: what each requester receives from a real broker, attacked.

Four providers upload extracts of one synthetic population to ``linkage serve`` (real gRPC, real
mutual TLS on loopback); the run operator of the policy links them. Three requester
organisations, each under its own authorisation, then ask through the ``linkage`` command line,
as a statistician would: JSON (``--format json``), tidy CSV, a chart (``--plot``) and the text
table, a request the ledger or the policy refuses, and ``linkage runs --json``. The attacker
reads only those outputs and error messages:

- a hidden cell must say ``suppressed`` and nothing more, in every format and in the chart
  (no primary/secondary, no reason, no 0 % or 100 %, no different rendering by reason);
- a refusal states no figure of the data: every number in it comes from the request or the policy;
- run quality figures are readable by no requester, or are protected like a table;
- all JSON answers together, attacked with the integer model of ``tests/attack/attacker.py``,
  narrow no hidden figure below [a-1, a+1].
"""

from __future__ import annotations

import datetime as dt
import json
import re

import matplotlib
import pytest

from clients.cli import main
from linkage.aggregate.compute import LinkedData
from linkage.aggregate.truth import truth_linked_data
from linkage.synth import generate
from server.app import serve
from server.config import load_config

from tests.attack.attacker import attack
from tests.attack.broker import ask, authorisation, link, make_pki, write_extracts
from tests.attack.quality import attack_quality, figures_of
from tests.attack.releases import from_answer

matplotlib.use("Agg")

PERSONS = 2_500
SEED = 4_141
"""Not a seed any other test or benchmark uses."""

REQUESTERS = ("statistics", "analyst-b", "analyst-c")
REASONS = re.compile(r"primary|secondary|(count|numerator|denominator|complement) below|too few|"
                     r"rate (of )?0 ?%|rate (of )?100 ?%", re.IGNORECASE)
"""What the broker's earlier answers said of hidden cells (status and reason texts)."""


@pytest.fixture(scope="module")
def linked_broker(tmp_path_factory):
    """A broker over the uploaded extracts of the population, linked by the policy's run operator."""
    root = tmp_path_factory.mktemp("channels")
    generate(PERSONS, SEED, root / "synth")
    truth = truth_linked_data(root / "synth")
    pki = make_pki(root / "pki", REQUESTERS[1:])
    handle = serve(load_config(None, {"listen": "127.0.0.1:0", "tls_dir": pki, "policy": pki / "policy.toml",
                                      "data_dir": root / "data", "shutdown_grace_seconds": 1.0}))
    try:
        link(handle, pki, write_extracts(truth, root, SEED))
        yield handle, pki, truth, root
    finally:
        handle.stop(0.5)


ASKS = (
    # (requester, name, request body): persons and a rate over the same residents, by three teams
    ("statistics", "persons_origin_sex",
     'population = "ksz"\nperiod = 2022\nmeasures = ["persons"]\n'
     'dimensions = ["origin_group:sem", "sex"]\nreference_date = 2023-12-31\n'),
    ("analyst-b", "employment_origin_sex",
     'population = "ksz"\nperiod = 2022\nmeasures = ["employment_rate"]\n'
     'dimensions = ["origin_group:sem", "sex"]\nreference_date = 2023-12-31\n'),
    ("analyst-c", "persons_origin_province",
     'population = "ksz"\nperiod = 2022\nmeasures = ["persons"]\n'
     'dimensions = ["origin_group:sem", "province"]\nreference_date = 2023-12-31\n'),
)


@pytest.fixture(scope="module")
def received(linked_broker, tmp_path_factory):
    """Everything the requesters received: JSON answers, CSV, chart figures, text, errors."""
    handle, pki, _, _ = linked_broker
    folder = tmp_path_factory.mktemp("received")
    out = {"json": [], "csv": [], "png": [], "text": []}
    for requester, name, body in ASKS:
        for form, suffix in (("json", "json"), ("csv", "csv")):
            path = folder / f"{name}.{suffix}"
            assert ask(handle, pki, requester, folder, name, body, "--format", form, "-o", str(path)) == 0
            out[form].append((requester, path.read_text()))
        chart = folder / f"{name}.png"
        assert ask(handle, pki, requester, folder, name, body, "--plot", str(chart),
                    "--format", "table", "-o", str(folder / f"{name}.txt")) == 0
        out["png"].append(chart)
        out["text"].append((folder / f"{name}.txt").read_text())
    return out


def test_a_hidden_cell_says_suppressed_and_nothing_more_in_json(received):
    hidden = 0
    for _, text in received["json"]:
        for table in json.loads(text)["tables"]:
            for cell in table["cells"]:
                if cell["status"] == "published":
                    continue
                hidden += 1
                assert cell == {"key": cell["key"], "count": None, "numerator": None, "status": "suppressed"}
    assert hidden, "nothing was suppressed: the population gives the attacker nothing to try"


def test_csv_and_text_say_suppressed_and_never_why(received):
    for _, text in received["csv"]:
        rows = [line.split(",") for line in text.splitlines()]
        header = rows[0]
        statuses = {row[header.index("status")] for row in rows[1:]}
        assert statuses <= {"published", "suppressed"} and "suppressed" in statuses
        assert not REASONS.search(text), REASONS.search(text)
    for text in received["text"]:
        assert not REASONS.search(text), REASONS.search(text)


def test_the_chart_marks_every_hidden_cell_the_same_way(received):
    """The chart's words: hidden cells are marked ``suppressed`` and never given a value or reason."""
    from linkage.aggregate.answer import AggregateAnswer
    from linkage.aggregate.plot import _draw, choose_table

    for _, text in received["json"]:
        answer = AggregateAnswer.from_json(text)
        table = choose_table(answer)
        figure = _draw(answer, table, 8.0)
        words = "\n".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))
        assert not REASONS.search(words), REASONS.search(words)
        matplotlib.pyplot.close("all")
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in received["png"])


def test_refusals_state_no_figure_of_the_data(linked_broker, tmp_path, capsys):
    """Every number in a refusal comes from the request or the policy (years, dates, k), never
    from the data ("the population holds 3 persons" would be a release)."""
    handle, pki, _, _ = linked_broker
    asks = (
        # a measure outside analyst-b's authorisation: refused by the policy
        ("analyst-b", 'population = "education"\nperiod = 2022\nmeasures = ["early_leaving_rate"]\n'
                      'dimensions = ["sex"]\nreference_date = 2023-12-31\n'),
        # five-year bands, then ten-year bands of the same persons: the ledger may refuse the second
        ("analyst-b", 'population = "ksz"\nperiod = 2022\nmeasures = ["persons"]\n'
                      'dimensions = ["origin_group:sem:belgian_eu_noneu", "sex", "age_band:five_year"]\n'
                      'reference_date = 2023-12-31\n'),
        ("analyst-c", 'population = "ksz"\nperiod = 2022\nmeasures = ["persons"]\n'
                      'dimensions = ["origin_group:sem:belgian_eu_noneu", "sex", "age_band:ten_year"]\n'
                      'reference_date = 2023-12-31\n'),
    )
    refusals = []
    for n, (requester, body) in enumerate(asks):
        capsys.readouterr()
        status = ask(handle, pki, requester, tmp_path, f"refused{n}", body, "--format", "json",
                      "-o", str(tmp_path / f"refused{n}.json"))
        error = capsys.readouterr().err
        if status == 0:
            continue
        refusals.append(error)
        allowed = set(re.findall(r"\d+", body + authorisation(requester) + " 5 linkage v1 2"))
        stated = set(re.findall(r"\d+", error))
        assert stated <= allowed, f"refusal states {sorted(stated - allowed)}: {error}"
    print("refusals:", *refusals, sep="\n  ")
    assert refusals, "no request was refused: the test tried nothing"


def test_no_requester_reads_run_quality_it_could_difference(linked_broker, capsys):
    """``linkage runs --json`` is refused to every requester; where the policy lets a requester
    read it, the withheld per-origin figures must resist the quality attacker."""
    handle, pki, truth, _ = linked_broker
    for requester in REQUESTERS:
        capsys.readouterr()
        status = main(["runs", "--broker", handle.address, "--tls-dir", str(pki), "--org", requester, "--json"])
        printed = capsys.readouterr()
        if status != 0:
            assert "PERMISSION_DENIED" in printed.err
            continue
        runs = json.loads(printed.out)
        published = (runs[0] if isinstance(runs, list) else runs["runs"][0])["quality"]
        found = attack_quality(published, figures_of(truth, dt.date.today(), withhold=False))
        assert not found, f"{requester}: " + "; ".join(f"{f.what}: true {f.truth}, [{f.low}, {f.high}]"
                                                       for f in found[:6])


def test_all_answers_together_narrow_no_hidden_figure(linked_broker, received):
    _, _, truth, _ = linked_broker
    releases = [from_answer(json.loads(text), requester, "run") for requester, text in received["json"]]
    outcome = attack(releases, {"run": LinkedData(truth.tables, "run")})
    print(f"end to end: {outcome.summary()}")
    assert outcome.hidden and outcome.numbers_defeated and outcome.labels_defeated, outcome.summary()
