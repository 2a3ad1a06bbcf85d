"""The recommended schema ``belgian-v4``: ``belgian-v3`` with the names encoded by bits per bigram."""

from __future__ import annotations

import numpy as np

from linkage.encoding import load_schema

from .helpers import IDENTIFIER_COLUMNS, VDAB_PAYLOAD, dice_matrix, encoded_bits, person, write_csv

FIRST = ["Torres", "De Bondt", "Garcia", "Pereira", "Van Acker", "Lopez", "Silva", "Janssens"]
SECOND = ["Sandoval", "Bruynzeels", "Marquez", "Santos", "Claes", "Moreno", "Costa", "Wouters"]


def test_v4_is_v3_with_bits_per_bigram_and_its_own_keys():
    v3, v4 = load_schema("belgian-v3"), load_schema("belgian-v4")
    assert (v4.clk_bits, v4.xor_folds, v4.diffusion_inputs, v4.flip_probability) == (1024, 1, 4, 0.0)
    assert v4.fingerprint != v3.fingerprint
    assert v4.document["clkConfig"]["kdf"]["info"] != v3.document["clkConfig"]["kdf"]["info"]
    names = [feature["identifier"] for feature in v4.document["features"]]
    assert names == [feature["identifier"] for feature in v3.document["features"]]


def test_a_dropped_surname_part_costs_v4_less_than_v3(tmp_path):
    """With bits per feature a name that loses a part spreads the feature's bits over fewer
    bigrams, so every bigram the two spellings share sets other bits too; the diffusion layer
    then multiplies that difference. With bits per bigram only the dropped bigrams differ:
    the true pair (``Torres Sandoval`` / ``Torres``) scores higher and further above the
    best look-alike."""
    rows = [person(i, surname=f"{FIRST[i % 8]} {SECOND[(i // 8) % 8]}") for i in range(64)]
    short = [dict(row, surname=row["surname"].rsplit(" ", 1)[0]) for row in rows]
    columns = IDENTIFIER_COLUMNS + VDAB_PAYLOAD
    left, right = write_csv(tmp_path / "left.csv", rows, columns), write_csv(tmp_path / "right.csv", short, columns)
    own, margin = {}, {}
    for name in ("belgian-v3", "belgian-v4"):
        schema = load_schema(name)
        dice = dice_matrix(encoded_bits(left, schema), encoded_bits(right, schema))
        assert (np.argmax(dice, 1) == np.arange(len(rows))).all()
        own[name] = np.diag(dice)
        margin[name] = own[name] - np.where(np.eye(len(rows), dtype=bool), 0.0, dice).max(1)
    assert (own["belgian-v4"] > own["belgian-v3"]).mean() > 0.9
    assert own["belgian-v4"].mean() > own["belgian-v3"].mean() + 0.05
    assert margin["belgian-v4"].mean() > margin["belgian-v3"].mean()
