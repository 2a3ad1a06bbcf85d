"""Features that hold names share one key, so a swapped given name and surname still agree."""

from __future__ import annotations

import copy

import numpy as np
from clkhash.clk import generate_clks

from linkage.encoding import encode_csv, load_schema, schema_from_dict
from linkage.encoding.features import plan_features
from linkage.encoding.keys import name_features_agree, shares_name_key
from linkage.encoding.secret import key_check

from .helpers import (
    IDENTIFIER_COLUMNS, SECRET, TEXT, VDAB_PAYLOAD, clkhash_feature, dice_matrix, person, write_csv,
)


def _feature(identifier: str, format_: dict, n: int = 2) -> dict:
    return clkhash_feature(identifier, format_, n, bits=200)


PLAIN = {  # a provider's schema from clkhash's documentation: one feature per column
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [_feature("given_names", TEXT), _feature("surname", TEXT),
                 _feature("birth_date", {"type": "date", "format": "%Y%m%d"}, 1)],
}
PEOPLE = [("Fatima", "Abdallah"), ("Emmanuel", "Owusu"), ("Mahmoud", "Qasim"), ("Senait", "Berhane")]


def _features(document: dict) -> list:
    return plan_features(schema_from_dict(copy.deepcopy(document)).clkhash_schema().fields)


def _rows(swapped: bool) -> list[dict]:
    return [person(i, given_names=surname if swapped else given, surname=given if swapped else surname)
            for i, (given, surname) in enumerate(PEOPLE)]


def _bits(tmp_path, name: str, document: dict, swapped: bool) -> np.ndarray:
    path = write_csv(tmp_path / f"{name}.csv", _rows(swapped), IDENTIFIER_COLUMNS + VDAB_PAYLOAD)
    extract, _ = encode_csv(path, schema_from_dict(copy.deepcopy(document)), SECRET, source="vdab")
    return np.unpackbits(np.asarray(extract.clks, dtype=np.uint8), axis=1).astype(bool)


def test_a_record_with_given_name_and_surname_swapped_agrees_with_its_partner(tmp_path):
    scores = dice_matrix(_bits(tmp_path, "kept", PLAIN, False), _bits(tmp_path, "swapped", PLAIN, True))
    assert np.diag(scores).min() > 0.95                 # the same name bits, in the other feature
    others = scores[~np.eye(len(PEOPLE), dtype=bool)]
    assert others.max() < 0.75                         # another person still differs


def test_with_a_key_per_feature_as_clkhash_derives_them_the_swap_would_not_agree():
    schema = schema_from_dict(copy.deepcopy(PLAIN)).clkhash_schema()
    pairs = [[[given, surname, "19900705"], [surname, given, "19900705"]] for given, surname in PEOPLE]
    for kept, swapped in pairs:
        a, b = (np.unpackbits(np.frombuffer(clk.tobytes(), np.uint8)).astype(bool)
                for clk in generate_clks([kept, swapped], schema, SECRET))
        assert 2 * (a & b).sum() / (a.sum() + b.sum()) < 0.8


def test_only_a_schema_with_several_name_features_gets_a_fingerprint_of_its_own(tmp_path):
    check = key_check(SECRET)
    for document, shared in ((PLAIN, True), (load_schema("belgian-v4").document, False)):
        schema = schema_from_dict(copy.deepcopy(document))
        assert shares_name_key(plan_features(schema.clkhash_schema().fields)) is shared
        path = write_csv(tmp_path / "in.csv", _rows(False), IDENTIFIER_COLUMNS + VDAB_PAYLOAD)
        fingerprint = encode_csv(path, schema, SECRET, source="vdab")[0].header.fingerprint
        assert fingerprint == schema.configuration_fingerprint(check, shared)
        assert fingerprint != schema.configuration_fingerprint(check, not shared)


def test_name_features_that_cut_names_differently_are_told_apart():
    document = copy.deepcopy(PLAIN)
    assert name_features_agree(_features(document))
    document["features"][1] = _feature("surname", TEXT, n=3)
    assert not name_features_agree(_features(document))


def test_a_feature_holding_both_names_keeps_the_other_name_features_on_their_own_keys():
    document = copy.deepcopy(PLAIN)      # the surname weighed twice: once with the given name
    document["features"] = [_feature("given_names.first+surname", TEXT), _feature("surname", TEXT)]
    features = _features(document)
    assert not shares_name_key(features)
    document["features"] = [_feature("given_names.first", TEXT), _feature("surname", TEXT)]
    assert shares_name_key(_features(document))
