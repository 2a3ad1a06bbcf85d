"""synth -> encode -> match through the real commands, judged against the generator's truth."""

import csv
import secrets

import pyarrow.parquet as pq
import pytest

from clients.cli import main
from linkage.matching.quality import evaluate

SOURCES = ("ksz", "vdab", "integration", "education")
F1_FLOOR = {("ksz", "vdab"): 0.98, ("ksz", "education"): 0.98, ("ksz", "integration"): 0.93}


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    assert main(["synth", "--persons", "4000", "--seed", "11", str(work / "synth")]) == 0
    secret = work / "secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o600)
    for source in SOURCES:
        assert main(["encode", "--schema", "belgian-v1", "--secret-file", str(secret), "--source", source,
                     "--id-column", "record_id", "--exact-column", "insz", "--quiet",
                     *(["--replaced-column", "replaced_insz"] if source == "ksz" else []),
                     str(work / "synth" / f"{source}.csv"), "-o", str(work / f"{source}.parquet")]) == 0
    assert main(["match", *(str(work / f"{s}.parquet") for s in SOURCES), "-o", str(work / "groups.csv"),
                 "--quiet"]) == 0
    return work


def test_linkage_quality_meets_the_floor_on_small_synthetic_data(linked):
    with open(linked / "synth" / "truth.csv", newline="") as handle:
        truth = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(handle)}
    with open(linked / "groups.csv", newline="") as handle:
        groups = [(int(r["group_id"]), r["source"], r["record_id"]) for r in csv.DictReader(handle)]
    quality = {pair.sources: pair for pair in evaluate(groups, truth, sources=SOURCES)}
    for pair, floor in F1_FLOOR.items():
        assert quality[pair].f1 >= floor, (pair, quality[pair].precision, quality[pair].recall)


def test_no_identifier_from_the_input_reaches_an_extract(linked):
    """Every value of every column of every extract, against the identifiers of the input.

    (Checked on decoded values: the file is compressed, so a byte search would prove nothing.)
    """
    for source in SOURCES:
        with open(linked / "synth" / f"{source}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        named = ("given_names", "surname", "insz", "replaced_insz", "birth_date")
        identifiers = {row[c].strip() for row in rows for c in named if c in row}
        identifiers.discard("")
        table = pq.read_table(linked / f"{source}.parquet")
        assert {*named, "postcode"}.isdisjoint(table.column_names)
        assert ("replaced_token" in table.column_names) == (source == "ksz")
        for name in table.column_names:
            values = {str(v) for v in table.column(name).to_pylist() if v is not None}
            assert not values & identifiers, (source, name)
