"""Any clkhash v3 schema clkhash accepts is accepted here: the examples clkhash ships and
the integer-typed features of its FEBRL example."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import clkhash
import clkhash.schema
import numpy as np
import pytest
from clkhash.bloomfilter import stream_bloom_filters
from clkhash.clk import generate_clks
from clkhash.randomnames import NameList

from linkage.encoding import encode_csv, load_schema, schema_from_dict
from linkage.encoding.features import plan_features
from linkage.encoding.keys import feature_keys
from linkage.encoding.schema import SchemaError
from linkage.errors import LinkageError

from .helpers import SECRET, clkhash_feature

CLKHASH_DATA = Path(clkhash.__file__).resolve().parent / "data"
BUNDLED = sorted(CLKHASH_DATA.glob("*schema*.json"))

# The shape of clkhash's FEBRL v3 example (docs/_static/febrl_schema_v3_final.json in the
# clkhash repository, not shipped in the package): integer date of birth, street number and
# postcode with bounds, ignored columns.
FEBRL_LIKE = {
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [
        {"identifier": "rec_id", "ignored": True},
        {"identifier": "given_name", "format": {"type": "string", "encoding": "utf-8", "maxLength": 64},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerFeature": 200}}},
        {"identifier": "surname", "format": {"type": "string", "encoding": "utf-8", "maxLength": 64},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerFeature": 200}}},
        {"identifier": "street_number", "format": {"type": "integer"},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True},
                     "strategy": {"bitsPerFeature": 100}, "missingValue": {"sentinel": ""}}},
        {"identifier": "postcode", "format": {"type": "integer", "minimum": 50, "maximum": 9999},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True},
                     "strategy": {"bitsPerFeature": 100}}},
        {"identifier": "date_of_birth", "format": {"type": "integer"},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True},
                     "strategy": {"bitsPerFeature": 200}, "missingValue": {"sentinel": ""}}},
        {"identifier": "soc_sec_id", "ignored": True},
    ],
}
FEBRL_COLUMNS = ["rec_id", "given_name", "surname", "street_number", "postcode", "date_of_birth", "soc_sec_id"]


def _write(path: Path, header: list[str], rows: list) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_clkhash_ships_example_schemas():
    assert BUNDLED, f"no example schemas in {CLKHASH_DATA}"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_example_schema_clkhash_ships_is_accepted(path):
    document = json.loads(path.read_text())
    clkhash.schema.from_json_dict(copy.deepcopy(document))    # clkhash accepts it ...
    schema = load_schema(path)                                 # ... and so do we
    assert [f for f in plan_features(schema.clkhash_schema().fields) if f is not None]


def test_clkhash_random_names_encode_as_clkhash_encodes_them(tmp_path):
    """clkhash's own generated records with its own schema: no row refused, and the CLKs are
    clkhash's where our normalisation leaves the names as they are (lower case); a 1 January
    date, an unknown day and month to us, is hashed as written in its ``date`` feature."""
    schema_path = CLKHASH_DATA / "randomnames-schema.json"
    names = NameList(300).names
    header = [f["identifier"] for f in json.loads(schema_path.read_text())["features"]]
    rows = [(index, name.lower(), dob, sex) for index, name, dob, sex in names]
    rows[0] = (rows[0][0], rows[0][1], "1990/01/01", rows[0][3])
    path = _write(tmp_path / "names.csv", header, rows)
    schema = load_schema(schema_path)
    extract, summary = _encode_identifiers(path, schema)
    assert summary.rejected_rows == 0 and summary.records == 300
    expected = generate_clks([list(row) for row in rows], schema.clkhash_schema(), SECRET)
    assert all(bytes(extract.clks[i]) == expected[i].tobytes() for i in range(len(rows)))


def _encode_identifiers(path: Path, schema):
    """Encode with the vdab declaration's payload columns absent: give them empty."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    payload = ["registration_date", "exit_date", "exit_reason", "education_level"]
    filled = [rows[0] + payload] + [row + ["2023-01-05", "", "", "medium"] for row in rows[1:]]
    full = _write(path.with_name(path.stem + "-full.csv"), filled[0], filled[1:])
    return encode_csv(full, schema, SECRET, source="vdab")


def test_integer_typed_features_of_clkhash_febrl_example_are_accepted(tmp_path):
    schema = schema_from_dict(FEBRL_LIKE)
    rows = [
        ("rec-1-org", "michaela", "baker", "8", "4223", "19151111", "5304218"),
        ("rec-1-dup-0", "michaela", "baker", "8", "4223", "19151311", "5304218"),   # month 13
        ("rec-2-org", "courtney", "painter", "12", "4560", "19160231", "4066625"),    # 31 February
        ("rec-3-org", "charles", "green", "", "45", "", "4365168"),                   # postcode below 50
    ]
    path = _write(tmp_path / "febrl.csv", FEBRL_COLUMNS, rows)
    extract, summary = _encode_identifiers(path, schema)
    assert summary.rejected_rows == 0 and summary.records == 4
    assert summary.noisy_counts == {
        ("date_of_birth", "month above 12; kept for its year and day"): 1,
        ("date_of_birth", "no such day in that month; kept for its parts"): 1,
        ("postcode", "does not fit the schema format of 'postcode'; counted missing"): 1,
    }
    assert summary.missing["postcode"] == 1 and summary.missing["date_of_birth"] == 1
    # clkhash's own hashing, with its given-name and surname features under one key (keys.py)
    clk_schema = schema.clkhash_schema()
    keys = feature_keys(clk_schema, SECRET, plan_features(clk_schema.fields))
    expected = next(iter(stream_bloom_filters([list(rows[0])], keys, clk_schema)))[0]
    assert bytes(extract.clks[0]) == expected.tobytes()
    # the mistyped month keeps the other seven digits: closer than another person's date
    overlap = [int((extract.clks[0] & extract.clks[i]).astype(bool).sum()) for i in (1, 2)]
    assert overlap[0] > overlap[1]


def _dice(a, b) -> float:
    a, b = np.unpackbits(a), np.unpackbits(b)
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


DATE_FORMATS = [
    {"type": "date", "format": "%Y%m%d"},
    {"type": "string", "encoding": "utf-8", "pattern": "[0-9]{2}/[0-9]{2}/[0-9]{4}"},
    {"type": "string", "encoding": "utf-8", "pattern": "[0-9]{8}"},
    {"type": "string", "encoding": "utf-8", "maxLength": 8},
    {"type": "string", "encoding": "utf-8", "pattern": "(0[1-9]|[12][0-9]|3[01])-(0[1-9]|1[0-2])-[0-9]{4}"},
]


@pytest.mark.parametrize("format_", DATE_FORMATS, ids=lambda f: f.get("format") or f.get("pattern") or "maxLength")
@pytest.mark.parametrize("written, partner, namesake", [
    ("01/01/1988", "10/01/1988", "01/01/2006"),   # 1 January: an unknown day and month
    ("00/00/1988", "19/09/1988", "01/01/2006"),   # the national register's unknown date
    ("31/04/1988", "30/04/1988", "31/04/2006"),   # a day the month does not have
    ("05/13/1988", "05/01/1988", "05/13/2006"),   # a month above 12
])
def test_a_date_feature_keeps_the_year_of_a_partial_or_impossible_date(tmp_path, written, partner, namesake, format_):
    """In a provider's clkhash ``date`` feature an unknown or impossible date was counted
    missing: the year was lost, and a namesake whose date was also unknown outscored the
    partner whose date was known (integration records with 1 January against KSZ). In a
    ``string`` feature whose pattern or length refused ``YYYY-MM-DD`` every date was."""
    document = {"version": 3, "clkConfig": FEBRL_LIKE["clkConfig"], "features": [
        clkhash_feature("given_names", {"type": "string", "encoding": "utf-8"}, 2, 200),
        clkhash_feature("surname", {"type": "string", "encoding": "utf-8"}, 2, 200),
        {**clkhash_feature("birth_date", format_, 1, 200),
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True},
                     "strategy": {"bitsPerFeature": 200}}},
    ]}
    rows = [("Tamar", "Grigoryan", date) for date in (written, partner, namesake)]
    path = _write(tmp_path / "dates.csv", ["given_names", "surname", "birth_date"], rows)
    extract, summary = _encode_identifiers(path, schema_from_dict(document))
    assert summary.rejected_rows == 0 and summary.missing["birth_date"] == 0
    clks = extract.clks
    assert _dice(clks[0], clks[1]) > _dice(clks[0], clks[2])


def _names_schema(given_names_format: dict) -> dict:
    return {"version": 3, "clkConfig": FEBRL_LIKE["clkConfig"], "features": [
        clkhash_feature("given_names", given_names_format, 2, 200),
        clkhash_feature("surname", {"type": "string", "encoding": "utf-8"}, 2, 200)]}


@pytest.mark.parametrize("pattern", ["[A-Z ]+", "[A-Z][a-z]+( [A-Z][a-z]+)*"])
def test_a_name_pattern_gets_the_case_it_accepts(tmp_path, pattern):
    """Normalised names are lower case; a pattern that wants upper or title case gets it
    (before, every name was counted missing)."""
    schema = schema_from_dict(_names_schema({"type": "string", "encoding": "utf-8", "pattern": pattern}))
    rows = [("Jan Pieter", "Peeters"), ("JAN-PIETER", "Peeters"), ("jan  pieter", "PEETERS"), ("Marie", "Peeters")]
    path = _write(tmp_path / "names.csv", ["given_names", "surname"], rows)
    extract, summary = _encode_identifiers(path, schema)
    assert summary.missing["given_names"] == 0 and not summary.noisy_counts
    assert bytes(extract.clks[0]) == bytes(extract.clks[1]) == bytes(extract.clks[2]) != bytes(extract.clks[3])


@pytest.mark.parametrize("format_, reason", [
    ({"type": "string", "encoding": "utf-8", "maxLength": 4}, "longer than the schema's maxLength 4"),
    ({"type": "string", "encoding": "utf-8", "pattern": "[0-9]+"}, "does not match the schema pattern"),
])
def test_a_schema_that_refuses_many_values_stops_the_encoding(tmp_path, format_, reason):
    """A value the schema's format refuses is counted missing; on many rows the schema does
    not fit the data, and an extract without the feature would link on what is left."""
    rows = [(["Mohamed Amine", "Fatima", "Jan Pieter"][i % 3], f"Peeters{chr(97 + i % 26)}") for i in range(60)]
    path = _write(tmp_path / "names.csv", ["given_names", "surname"], rows)
    with pytest.raises(LinkageError, match=f"refuses the values of 'given_names'.*nothing was written:\n.*{reason}"):
        _encode_identifiers(path, schema_from_dict(_names_schema(format_)))
    few = _write(tmp_path / "few.csv", ["given_names", "surname"], rows[:3] + [("Jo", "Peeters")] * 57)
    _, summary = _encode_identifiers(few, schema_from_dict(_names_schema(
        {"type": "string", "encoding": "utf-8", "maxLength": 4})))
    assert summary.records == 60 and summary.missing["given_names"] == 3     # noise: counted missing


@pytest.mark.parametrize("format_", [
    {"type": "enum", "values": ["M", "F"]}, {"type": "enum", "values": ["male", "female"]},
    {"type": "enum", "values": ["m", "v"]}, {"type": "string", "encoding": "utf-8"},
])
def test_sex_is_one_code_whatever_the_register_and_the_schema_spell_it(tmp_path, format_):
    """A Dutch register writes V, an English-language schema asks for F or female: before,
    the enum refused the other spellings (every woman's sex counted missing)."""
    document = _names_schema({"type": "string", "encoding": "utf-8"})
    document["features"].append(clkhash_feature("sex", format_, 1, 50))
    rows = [("Marie", "Peeters", sex) for sex in ("F", "V", "vrouw", "female", "M", "man", "H")]
    path = _write(tmp_path / "sex.csv", ["given_names", "surname", "sex"], rows)
    extract, summary = _encode_identifiers(path, schema_from_dict(document))
    assert summary.missing["sex"] == 0 and not summary.noisy_counts
    clks = [bytes(clk) for clk in extract.clks]
    assert len(set(clks[:4])) == 1 and len(set(clks[4:])) == 1 and clks[0] != clks[4]


def test_a_string_date_feature_that_accepts_no_date_form_is_refused_when_read():
    document = copy.deepcopy(FEBRL_LIKE)
    for spec in document["features"]:
        if spec["identifier"] == "date_of_birth":
            spec["format"] = {"type": "string", "encoding": "utf-8", "pattern": "[0-9]{2}:[0-9]{2}:[0-9]{4}"}
    with pytest.raises(SchemaError, match="accepts no birth date form .*declare it as a clkhash date"):
        plan_features(schema_from_dict(document).clkhash_schema().fields)


@pytest.mark.parametrize("feature, format_", [
    ("surname", {"type": "integer"}),
    ("given_name", {"type": "date", "format": "%Y-%m-%d"}),
    ("date_of_birth", {"type": "enum", "values": ["a", "b"]}),
])
def test_formats_that_cannot_hold_the_column_are_still_refused(feature, format_):
    document = copy.deepcopy(FEBRL_LIKE)
    for spec in document["features"]:
        if spec["identifier"] == feature:
            spec["format"] = format_
    with pytest.raises(SchemaError, match="needs format type"):
        plan_features(schema_from_dict(document).clkhash_schema().fields)
