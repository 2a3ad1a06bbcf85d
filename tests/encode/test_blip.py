"""BLIP bit flips (``clkConfig.blip``) and the hardened recommended schema ``belgian-v2``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from linkage.encoding import encode_csv, load_schema
from linkage.encoding.blip import blip_key, flip
from linkage.encoding.schema import SchemaError, schema_from_dict

from .helpers import IDENTIFIER_COLUMNS, SECRET, VDAB_PAYLOAD, person, write_csv

COLUMNS = IDENTIFIER_COLUMNS + VDAB_PAYLOAD


def _bits(clks) -> np.ndarray:
    """Bits of CLKs given as a byte matrix or as a list of byte strings."""
    if isinstance(clks, list):
        clks = np.frombuffer(b"".join(clks), dtype=np.uint8).reshape(len(clks), -1)
    return np.unpackbits(np.asarray(clks, dtype=np.uint8), axis=1).astype(bool)


def test_flips_are_keyed_reproducible_and_about_as_frequent_as_declared():
    clks = [bytes(np.random.default_rng(i).integers(0, 256, 128, dtype=np.uint8)) for i in range(200)]
    key = blip_key(SECRET)
    flipped = [flip(clk, 128, key, 0.1) for clk in clks]
    assert flipped == [flip(clk, 128, key, 0.1) for clk in clks]
    assert flip(b"".join(clks), 128, key, 0.1) == b"".join(flipped)  # a CLK's flips depend on it alone
    share = np.mean([_bits([a]) != _bits([b]) for a, b in zip(clks, flipped)])
    assert 0.09 < share < 0.112  # 26/256 = 0.1016
    other = [flip(clk, 128, blip_key(b"another secret"), 0.1) for clk in clks]
    assert np.mean([_bits([a]) != _bits([b]) for a, b in zip(flipped, other)]) > 0.15


@pytest.mark.parametrize("blip", [0.5, 0, -0.1, True, "0.1", {"flipProbability": 0.1, "seed": 3}, [0.1]])
def test_a_bad_blip_setting_is_refused_not_ignored(blip):
    document = copy.deepcopy(load_schema("belgian-v2").document)
    document["clkConfig"]["blip"] = blip if isinstance(blip, (dict, list)) else {"flipProbability": blip}
    with pytest.raises(SchemaError, match="flipProbability"):
        schema_from_dict(document)


def test_belgian_v2_folds_and_flips_and_still_links_the_same_people(tmp_path):
    v1, v2 = load_schema("belgian-v1"), load_schema("belgian-v2")
    assert (v2.clk_bits, v2.xor_folds, v2.flip_probability) == (1024, 1, 0.1) and v2.fingerprint != v1.fingerprint
    rows = [person(i) for i in range(40)]
    left = write_csv(tmp_path / "left.csv", rows, COLUMNS)
    right = write_csv(tmp_path / "right.csv", [person(i, given_names=r["given_names"] + "e") for i, r in enumerate(rows)],
                      COLUMNS)
    encoded = [encode_csv(path, v2, SECRET, source="vdab")[0] for path in (left, right)]
    again = encode_csv(left, v2, SECRET, source="vdab")[0]
    assert np.array_equal(again.clks, encoded[0].clks)  # reproducible
    a, b = _bits(encoded[0].clks), _bits(encoded[1].clks)
    dice = 2 * (a[:, None, :] & b[None, :, :]).sum(2) / (a.sum(1)[:, None] + b.sum(1)[None, :])
    assert (np.argmax(dice, 1) == np.arange(len(rows))).all()  # everyone's best match is themself
    unflipped = encode_csv(left, v2.without_blip(), SECRET, source="vdab")[0]
    changed = (_bits(unflipped.clks) != a).mean()
    assert 0.08 < changed < 0.12
