"""The keyed diffusion layer (``clkConfig.diffusion``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from linkage.encoding import encode_csv, load_schema
from linkage.encoding.diffusion import diffuse, diffusion_key, inputs
from linkage.encoding.schema import SchemaError, schema_from_dict

from .helpers import IDENTIFIER_COLUMNS, SECRET, VDAB_PAYLOAD, dice_matrix, encoded_bits, person, write_csv

WIDTH = 128


def _random_clks(count: int, seed: int, fill: float = 0.4) -> np.ndarray:
    return np.packbits(np.random.default_rng(seed).random((count, 8 * WIDTH)) < fill, axis=1)


def _bits(clks: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(clks, dtype=np.uint8).reshape(-1, WIDTH), axis=1)


@pytest.mark.parametrize("count", [2, 3, 5, 16])
def test_every_output_bit_xors_distinct_inputs_and_every_input_feeds_count_outputs(count):
    rows = inputs(diffusion_key(SECRET), 8 * WIDTH, count)
    assert rows.shape == (8 * WIDTH, count)
    assert all(len(set(row)) == count for row in rows.tolist())
    assert (np.bincount(rows.ravel(), minlength=8 * WIDTH) == count).all()


def test_the_choice_of_inputs_is_keyed_and_reproducible():
    key = diffusion_key(SECRET)
    assert np.array_equal(inputs(key, 1024, 3), inputs(key, 1024, 3))
    other = inputs(diffusion_key(b"another secret"), 1024, 3)
    assert (np.sort(other, 1) != np.sort(inputs(key, 1024, 3), 1)).any(axis=1).mean() > 0.99


def test_each_output_bit_is_the_xor_of_its_inputs_clk_by_clk():
    clks = _random_clks(50, 1)
    rows = inputs(diffusion_key(SECRET), 8 * WIDTH, 3)
    out = _bits(diffuse(clks.tobytes(), WIDTH, rows))
    bits = np.unpackbits(clks, axis=1)
    expected = np.array([[np.bitwise_xor.reduce(record[row]) for row in rows] for record in bits])
    assert np.array_equal(out, expected)
    assert diffuse(clks[:1].tobytes(), WIDTH, rows) == diffuse(clks.tobytes(), WIDTH, rows)[:WIDTH]


def test_similar_clks_stay_closer_than_unrelated_ones_and_a_names_frequency_fades():
    """Hamming distance after the layer is about (1 - (1 - 2q)^t) / 2 of q before; bits a group
    of records sets more often (shared bigrams) barely move any output bit's frequency."""
    rows = inputs(diffusion_key(SECRET), 8 * WIDTH, 3)
    rng = np.random.default_rng(2)
    base = np.unpackbits(_random_clks(200, 3), axis=1)
    near = base ^ (rng.random(base.shape) < 0.05)
    out = [_bits(diffuse(np.packbits(b, axis=1).tobytes(), WIDTH, rows)) for b in (base, near)]
    q = (base != near).mean()
    assert abs((out[0] != out[1]).mean() - (1 - (1 - 2 * q) ** 3) / 2) < 0.01
    assert abs((out[0] != np.roll(out[1], 1, axis=0)).mean() - 0.5) < 0.01
    many = np.unpackbits(_random_clks(4000, 4), axis=1)
    group = many.copy()
    group[:, :40] = rng.random((4000, 40)) < 0.7   # 40 bits a naming tradition sets more often
    before = np.abs(many.mean(0) - group.mean(0))[:40].min()
    after = [_bits(diffuse(np.packbits(b, axis=1).tobytes(), WIDTH, rows)).mean(0) for b in (many, group)]
    assert before > 0.25 and np.abs(after[0] - after[1]).max() < 0.1


@pytest.mark.parametrize("diffusion", [1, 17, 0, True, "3", 2.5, {"inputs": 3, "key": 1}, [3]])
def test_a_bad_diffusion_setting_is_refused_not_ignored(diffusion):
    document = copy.deepcopy(load_schema("belgian-v2").document)
    document["clkConfig"]["diffusion"] = diffusion if isinstance(diffusion, (dict, list)) else {"inputs": diffusion}
    with pytest.raises(SchemaError, match="clkConfig.diffusion"):
        schema_from_dict(document)


def test_the_encoder_applies_the_layer_before_the_flips(tmp_path):
    document = copy.deepcopy(load_schema("belgian-v2").document)
    document["clkConfig"].pop("blip")
    folded = schema_from_dict(copy.deepcopy(document))
    document["clkConfig"]["diffusion"] = {"inputs": 3}
    diffused = schema_from_dict(document)
    assert diffused.diffusion_inputs == 3 and diffused.fingerprint != folded.fingerprint
    rows = [person(i) for i in range(30)]
    path = write_csv(tmp_path / "people.csv", rows, IDENTIFIER_COLUMNS + VDAB_PAYLOAD)
    plain = encode_csv(path, folded, SECRET, source="vdab")[0]
    layered = encode_csv(path, diffused, SECRET, source="vdab")[0]
    expected = diffuse(np.asarray(plain.clks, dtype=np.uint8).tobytes(), WIDTH,
                       inputs(diffusion_key(SECRET), 8 * WIDTH, 3))
    assert np.asarray(layered.clks, dtype=np.uint8).tobytes() == expected


def test_belgian_v3_folds_and_diffuses_without_flips_and_still_links_the_same_people(tmp_path):
    v2, v3 = load_schema("belgian-v2"), load_schema("belgian-v3")
    assert (v3.clk_bits, v3.xor_folds, v3.diffusion_inputs, v3.flip_probability) == (1024, 1, 4, 0.0)
    assert v3.fingerprint != v2.fingerprint
    rows = [person(i) for i in range(40)]
    columns = IDENTIFIER_COLUMNS + VDAB_PAYLOAD
    left = write_csv(tmp_path / "left.csv", rows, columns)
    right = write_csv(tmp_path / "right.csv", [person(i, given_names=r["given_names"] + "e") for i, r in enumerate(rows)],
                      columns)
    a, b = encoded_bits(left, v3), encoded_bits(right, v3)
    dice = dice_matrix(a, b)
    assert (np.argmax(dice, 1) == np.arange(len(rows))).all()  # everyone's best match is themself
    assert 0.45 < a.mean() < 0.55                                # the layer leaves about half the bits set
