"""Person keys: the same person gets the same key in every run, whatever its entity id."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.disclosure.person_keys import person_keys

SECRET = b"s" * 32


def token(n: int) -> bytes:
    return n.to_bytes(32, "big")


def keyed(run: dict[str, list[tuple[str, bytes | None, int]]], secret: bytes = SECRET) -> dict[str, dict[str, int]]:
    """``run``: per source, (record id, token, entity id) rows; the key of each record."""
    sources = sorted(run)
    keys = person_keys(secret, sources, [[r for r, _, _ in run[s]] for s in sources],
                       [[t for _, t, _ in run[s]] for s in sources],
                       [np.array([e for _, _, e in run[s]], dtype=np.int64) for s in sources])
    return {s: dict(zip([r for r, _, _ in run[s]], k.tolist(), strict=True)) for s, k in zip(sources, keys)}


def test_a_person_keeps_the_key_when_entity_ids_and_sources_change():
    first = keyed({"ksz": [("k1", token(1), 0), ("k2", None, 1), ("k3", token(3), 2)],
                   "vdab": [("v1", token(1), 0)]})
    # next year: other entity ids, person 1 left VDAB and is now in education, a newcomer
    second = keyed({"ksz": [("k9", None, 7), ("k3", token(3), 3), ("k1", token(1), 5), ("k2", None, 4)],
                    "education": [("e1", token(1), 5)]})
    assert second["ksz"]["k1"] == first["ksz"]["k1"] == second["education"]["e1"] == first["vdab"]["v1"]
    assert second["ksz"]["k2"] == first["ksz"]["k2"]           # no token: the register's reference
    assert second["ksz"]["k3"] == first["ksz"]["k3"]
    assert len({*second["ksz"].values()}) == 4                  # four persons, four keys


def test_without_a_token_the_population_register_names_the_person():
    """An entity linked by its CLK only is keyed by its KSZ reference, not by the reference
    another source happens to give it."""
    one = keyed({"ksz": [("k2", None, 0)], "vdab": [("v2", None, 0)]})
    other = keyed({"ksz": [("k2", None, 3)], "vdab": [("v7", None, 3)], "integration": [("i4", None, 3)]})
    assert one["ksz"]["k2"] == one["vdab"]["v2"] == other["ksz"]["k2"] == other["integration"]["i4"]


def test_a_token_wins_over_a_reference_and_the_key_depends_on_the_secret():
    plain = keyed({"ksz": [("k1", None, 0)], "vdab": [("v1", token(1), 0)]})
    tokened = keyed({"vdab": [("v5", token(1), 2)]})
    assert plain["ksz"]["k1"] == tokened["vdab"]["v5"]
    assert keyed({"vdab": [("v5", token(1), 2)]}, b"t" * 32)["vdab"]["v5"] != tokened["vdab"]["v5"]
    # the same reference in two sources names two persons
    two = keyed({"ksz": [("x", None, 0)], "vdab": [("x", None, 1)]})
    assert two["ksz"]["x"] != two["vdab"]["x"]


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="16 to 64 bytes"):
        person_keys(b"short", ["ksz"], [["k"]], [[None]], [np.zeros(1, dtype=np.int64)])


def test_two_entities_with_one_national_number_get_keys_of_their_own():
    """A provider's duplicate records with one INSZ that did not link are two entities; each
    needs its own key (a unit counted twice breaks the ledger), stably from run to run."""
    run = {"ksz": [("k1", token(1), 0), ("k2", token(1), 1), ("k3", None, 2)], "vdab": [("v1", token(1), 0)]}
    first, again = keyed(run), keyed({"ksz": [("k2", token(1), 8), ("k1", token(1), 9), ("k3", None, 7)],
                                      "vdab": [("v1", token(1), 9)]})
    assert len({*first["ksz"].values()}) == 3
    assert first == again
    assert first["ksz"]["k1"] == keyed({"ksz": [("k1", token(1), 0)]})["ksz"]["k1"]   # the token's key
