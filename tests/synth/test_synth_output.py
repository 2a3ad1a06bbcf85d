"""The files the generator writes: columns, formats, validity and the ground truth."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import re
from collections import Counter

from stdnum.be import bis, nn

from linkage.sources import SOURCES
from linkage.synth import generate
from linkage.synth.extracts import IDENTIFIER_COLUMNS, KNOWS_REPLACED

from .conftest import read_csv

SOURCE_NAMES = ("ksz", "vdab", "integration", "education")
FILES = ("ksz.csv", "vdab.csv", "integration.csv", "education.csv", "truth.csv", "persons.csv",
         "summary.json")

DATE_PATTERNS = {
    "ksz": [(re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (1, 2, 3))],
    "vdab": [(re.compile(r"(\d{2})/(\d{2})/(\d{4})"), (3, 2, 1))],
    "integration": [(re.compile(r"(\d{2})\.(\d{2})\.(\d{4})"), (3, 2, 1)),
                    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), (3, 2, 1))],
    "education": [(re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3))],
}


def parse_birth_date(source: str, text: str) -> dt.date:
    for pattern, (y, m, d) in DATE_PATTERNS[source]:
        match = pattern.fullmatch(text)
        if match:
            return dt.date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
    raise AssertionError(f"{source}: birth date {text!r} is not in the source's format")


def test_writes_exactly_the_documented_files(small):
    assert sorted(p.name for p in small.outdir.iterdir()) == sorted(FILES)
    assert not [p for p in small.outdir.parent.iterdir() if p.name.startswith(".")]


def test_columns_are_identifiers_then_declared_payload(small):
    for source in SOURCE_NAMES:
        header = list(small.rows(source)[0])
        payload = [a.name for a in SOURCES[source].payload if a.name not in IDENTIFIER_COLUMNS]
        identifiers = list(IDENTIFIER_COLUMNS)
        if source in KNOWS_REPLACED:
            identifiers.insert(2, "replaced_insz")
        assert header == [*identifiers, *payload]


def test_the_register_names_the_bis_number_its_register_number_replaced(small):
    persons = {p["person_id"]: p for p in small.rows("persons")}
    truth = {(t["source"], t["record_id"]): t["person_id"] for t in small.rows("truth")}
    named = 0
    for row in small.rows("ksz"):
        person = persons[truth[("ksz", row["record_id"])]]
        if row["replaced_insz"]:
            named += 1
            assert row["replaced_insz"] == person["bis_previous"] and row["insz"] == person["insz"]
        else:
            assert not person["bis_previous"] or row["insz"] != person["insz"]
    assert named > 50


def test_every_payload_value_parses_under_its_declaration(small):
    for source in SOURCE_NAMES:
        spec = SOURCES[source]
        for row in small.rows(source):
            for attribute in spec.payload:
                attribute.parse(row[attribute.name])   # raises PayloadError when invalid


def test_national_numbers_are_valid_where_present(small):
    seen = 0
    for source in SOURCE_NAMES:
        for row in small.rows(source):
            if row["insz"]:
                seen += 1
                assert nn.is_valid(row["insz"]) or bis.is_valid(row["insz"]), source
    assert seen > 6000
    numbers = [p["insz"] for p in small.rows("persons")]
    assert len(set(numbers)) == len(numbers)
    for p in small.rows("persons"):
        assert nn.is_valid(p["insz"]) or bis.is_valid(p["insz"])
        if p["bis_previous"]:
            assert bis.is_valid(p["bis_previous"]) and not nn.is_valid(p["bis_previous"])


def test_national_numbers_carry_birth_date_and_sex(small):
    for p in small.rows("persons"):
        if not nn.is_valid(p["insz"]):
            continue
        birth = dt.date.fromisoformat(p["birth_date"])
        if p["birth_date_unknown_in_register"] == "1":
            assert p["insz"][2:6] == "0000"
        else:
            assert nn.get_birth_date(p["insz"]) == birth
        assert nn.get_gender(p["insz"]) == p["sex"]


def test_birth_dates_use_each_source_format(small):
    for source in SOURCE_NAMES:
        for row in small.rows(source):
            parse_birth_date(source, row["birth_date"])


def test_record_ids_are_opaque_and_unique(small):
    for source in SOURCE_NAMES:
        ids = [r["record_id"] for r in small.rows(source)]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"[KVIE][0-9a-f]{12}", i) for i in ids)
    # rows are not in person order: the first records do not belong to the first persons
    person_of = small.person_of("ksz")
    first = [person_of[r["record_id"]] for r in small.rows("ksz")[:50]]
    assert first != sorted(first)


def test_truth_covers_every_record_exactly_once(small):
    truth = small.rows("truth")
    persons = small.persons()
    keys = Counter((t["source"], t["record_id"]) for t in truth)
    assert max(keys.values()) == 1
    records = {(s, r["record_id"]) for s in SOURCE_NAMES for r in small.rows(s)}
    assert set(keys) == records
    assert all(t["person_id"] in persons for t in truth)


def test_duplicates_are_rare_and_counted(small):
    for source in SOURCE_NAMES:
        per_person = Counter(t["person_id"] for t in small.rows("truth") if t["source"] == source)
        extra = sum(c - 1 for c in per_person.values())
        assert extra == small.summary.duplicates[source]
        assert max(per_person.values(), default=1) <= 2
        assert extra <= 0.01 * len(per_person) + 3
    assert small.summary.duplicates["ksz"] == 0


def test_summary_json_matches_the_files(small):
    meta = json.loads((small.outdir / "summary.json").read_text())
    assert meta["persons"] == 6000 and meta["seed"] == 11
    for source in SOURCE_NAMES:
        assert meta["records"][source] == len(small.rows(source))
    assert meta["config"]["noise"]["vdab"]["moved"] == 0.08


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = generate(1500, 3, tmp_path / "a")
    b = generate(1500, 3, tmp_path / "b")
    generate(1500, 4, tmp_path / "c")
    assert a.records == b.records
    for name in FILES[:-1]:
        assert filecmp.cmp(tmp_path / "a" / name, tmp_path / "b" / name, shallow=False), name
    for name in FILES[:-1]:
        assert not filecmp.cmp(tmp_path / "a" / name, tmp_path / "c" / name, shallow=False), name
    assert read_csv(tmp_path / "a" / "persons.csv")[0] != read_csv(tmp_path / "c" / "persons.csv")[0]
