"""Schema loading: clkhash pitfalls guarded, canonical fingerprint, clear refusals."""

from __future__ import annotations

import copy
import json

import clkhash.schema
import pytest
from clkhash.clk import generate_clks

from linkage.encoding import SchemaError, load_schema, schema_from_dict
from linkage.encoding.features import plan_features

from .helpers import SECRET


def small_schema(**clk_config) -> dict:
    return {
        "version": 3,
        "clkConfig": {"l": 1024, "kdf": {"type": "HKDF"}, **clk_config},
        "features": [
            {"identifier": "surname", "format": {"type": "string", "case": "lower"},
             "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 20}}},
        ],
    }


def popcount(schema) -> int:
    return generate_clks([["peeters"]], schema.clkhash_schema(), SECRET)[0].count()


def test_bundled_schema_loads_by_name():
    schema = load_schema("belgian-v1")
    assert schema.clk_bits == 1024
    features = {feature["identifier"]: feature for feature in schema.document["features"]}
    assert "given_names.first+surname" in features          # swap-proof: one set of name words
    assert not any(identifier.startswith("sex") for identifier in features)
    bits = {name: feature["hashing"]["strategy"]["bitsPerFeature"] for name, feature in features.items()}
    # the year, the part of a birth date that registers rarely get wrong, weighs most of it
    assert bits["birth_date.year"] > bits["birth_date.day"] + bits["birth_date.month"] - 1
    # together the birth date weighs enough that a namesake with another birth date falls
    # below the threshold (docs/matching.md): at least two thirds of the names' weight
    date_bits = bits["birth_date.day"] + bits["birth_date.month"] + bits["birth_date.year"]
    assert date_bits >= 2 * bits["given_names.first+surname"] / 3


def test_both_xor_fold_spellings_really_fold():
    plain = schema_from_dict(small_schema())
    documented = schema_from_dict(small_schema(xorFolds=1))
    undocumented = schema_from_dict(small_schema(xor_folds=1))
    # clkhash itself ignores the documented spelling: the pitfall this guards against.
    assert clkhash.schema.from_json_dict(small_schema(xorFolds=1)).xor_folds == 0
    assert documented.clkhash_schema().xor_folds == 1
    assert documented.fingerprint == undocumented.fingerprint != plain.fingerprint
    assert popcount(documented) == popcount(undocumented) != popcount(plain)


def test_zero_folds_is_the_same_configuration_as_none():
    assert schema_from_dict(small_schema(xorFolds=0)).fingerprint == schema_from_dict(small_schema()).fingerprint


def test_conflicting_fold_spellings_are_refused():
    with pytest.raises(SchemaError, match="keep one"):
        schema_from_dict(small_schema(xorFolds=1, xor_folds=2))


@pytest.mark.parametrize("folds", [-1, "1", 1.5, True])
def test_bad_fold_counts_are_refused(folds):
    with pytest.raises(SchemaError, match="whole number"):
        schema_from_dict(small_schema(xor_folds=folds))


def test_length_must_be_whole_bytes():
    document = small_schema()
    document["clkConfig"]["l"] = 1020
    with pytest.raises(SchemaError, match="multiple of 8"):
        schema_from_dict(document)


def test_blake_hash_needs_a_power_of_two():
    document = small_schema()
    document["clkConfig"]["l"] = 1000
    with pytest.raises(SchemaError, match="power of two"):
        schema_from_dict(document)


def test_fingerprint_ignores_key_order_and_whitespace():
    document = small_schema()
    reordered = json.loads(json.dumps(document, sort_keys=True, indent=4))
    assert schema_from_dict(reordered).fingerprint == schema_from_dict(document).fingerprint
    changed = copy.deepcopy(document)
    changed["features"][0]["hashing"]["strategy"]["bitsPerToken"] = 21
    assert schema_from_dict(changed).fingerprint != schema_from_dict(document).fingerprint


@pytest.mark.parametrize("document, fragment", [
    ([1, 2], "JSON object"),
    ({**small_schema(), "version": 2}, "version 3"),
    ({"version": 3, "features": []}, "clkConfig"),
    ({**small_schema(), "features": [{"identifier": "x", "format": {"type": "strin"},
                                      "hashing": {"comparison": {"type": "ngram", "n": 2},
                                                  "strategy": {"bitsPerToken": 20}}}]}, "not valid"),
    ({**small_schema(), "features": small_schema()["features"] * 2}, "more than once"),
])
def test_unusable_schemas_are_refused_clearly(document, fragment):
    with pytest.raises(SchemaError, match=fragment):
        schema_from_dict(document)


def test_schema_file_that_is_not_json(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text("{version: 3")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_schema(path)


def test_unknown_schema_name_lists_the_bundled_ones():
    with pytest.raises(SchemaError, match="belgian-v1"):
        load_schema("no-such-schema")


def test_unknown_part_of_a_known_column_is_refused():
    document = small_schema()
    document["features"][0]["identifier"] = "birth_date.week"
    schema = schema_from_dict(document)
    with pytest.raises(SchemaError, match="no part 'week'"):
        plan_features(schema.clkhash_schema().fields)


def test_name_feature_with_a_date_format_is_refused():
    document = small_schema()
    document["features"][0]["format"] = {"type": "date", "format": "%Y-%m-%d"}
    with pytest.raises(SchemaError, match="needs format type string"):
        plan_features(schema_from_dict(document).clkhash_schema().fields)


@pytest.mark.parametrize("identifier, complaint", [
    ("given_names.first+birth_date", "only name columns"),
    ("surname+surname", "names a column twice"),
    ("given_names.first+birth_date.year", "only name columns"),
])
def test_only_distinct_name_columns_combine(identifier, complaint):
    document = small_schema()
    document["features"][0]["identifier"] = identifier
    with pytest.raises(SchemaError, match=complaint):
        plan_features(schema_from_dict(document).clkhash_schema().fields)
