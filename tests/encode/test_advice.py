"""The measured costs of a schema's choices, printed by ``linkage encode`` before it starts."""

from __future__ import annotations

import copy
import json

import pytest

from clients.cli import main
from linkage.encoding import load_schema, schema_from_dict
from linkage.encoding.advice import schema_advice
from linkage.extract import read_extract

from .helpers import IDENTIFIER_COLUMNS, TEXT, VDAB_PAYLOAD, clkhash_feature, person, write_csv


PLAIN = {  # what a provider writes from clkhash's documentation: one feature per column
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [clkhash_feature("given_names", TEXT), clkhash_feature("surname", TEXT),
                 clkhash_feature("sex", {"type": "enum", "values": ["M", "F"]}, 1),
                 clkhash_feature("birth_date", {"type": "date", "format": "%Y%m%d"}, 1)],
}


def _advice(document: dict) -> str:
    return " | ".join(schema_advice(schema_from_dict(copy.deepcopy(document))))


def test_the_recommended_schemas_get_no_advice():
    assert schema_advice(load_schema("belgian-v4")) == [] and schema_advice(load_schema("belgian-v3")) == []


def test_a_plain_schema_is_told_each_measured_cost():
    advice = schema_advice(schema_from_dict(copy.deepcopy(PLAIN)))
    assert len(advice) == 3
    text = " | ".join(advice)
    assert "swapped" not in text and "'given_names' hashes all given names" in text   # one name key
    assert "'sex' encodes sex" in text and "no diffusion layer" in text


@pytest.mark.parametrize(("features", "said", "not_said"), [
    # one feature for both names: swaps agree, the first given name only: nothing to say on names
    (["given_names.first+surname"], [], ["swapped", "all given names"]),
    # the first given name in a feature of its own: both name features share one key
    (["given_names.first", "surname"], [], ["swapped", "all given names"]),
    # all given names together with the surname: swaps agree, the extra names do not
    (["given_names+surname"], ["all given names"], ["swapped"]),
    # only a surname: nothing to swap with
    (["surname"], [], ["swapped", "all given names"]),
])
def test_name_advice_follows_which_columns_each_feature_reads(features, said, not_said):
    document = copy.deepcopy(PLAIN)
    document["features"] = [clkhash_feature(identifier, TEXT) for identifier in features]
    text = _advice(document)
    assert all(fragment in text for fragment in said), text
    assert not any(fragment in text for fragment in not_said), text


def test_name_features_cut_differently_cannot_meet_a_swap_and_are_told_so():
    document = copy.deepcopy(PLAIN)
    document["features"][1] = clkhash_feature("surname", TEXT, n=3)
    assert "swapped" in _advice(document)


def test_a_folded_schema_without_diffusion_is_still_told_about_graph_matching():
    assert "no diffusion layer" in " ".join(schema_advice(load_schema("belgian-v2")))
    assert "no diffusion layer" in " ".join(schema_advice(load_schema("belgian-v1")))


def test_linkage_encode_prints_the_advice_and_still_encodes(tmp_path, secret_file, capsys):
    schema = tmp_path / "plain.json"
    schema.write_text(json.dumps(PLAIN))
    path = write_csv(tmp_path / "in.csv", [person(i) for i in range(3)], IDENTIFIER_COLUMNS + VDAB_PAYLOAD)
    output = tmp_path / "out.parquet"
    code = main(["encode", "--schema", str(schema), "--secret-file", str(secret_file), "--quiet",
                 "--source", "vdab", str(path), "-o", str(output)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("linkage encode: warning: schema: ") == 3
    assert "diffusion layer" in err and len(read_extract(output).record_ids) == 3
