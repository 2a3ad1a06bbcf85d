"""The joint audit's rounds: a later round checks only what the earlier ones left open.

Between rounds cells are only hidden (or published where the earlier releases imply them), so
the attacker's feasible set only grows and what a round proved still holds. The linked tables
of sdcTable (each safe alone, K exact together) need a second round."""

from __future__ import annotations

import numpy as np

from linkage.disclosure import joint
from linkage.disclosure.atoms import Membership, Signatures, TableFigures
from linkage.disclosure.joint import AuditRelease, joint_audit
from linkage.disclosure.table import Dimension, TableStructure

LEAVES = list("ABIJKLMN")
LEAF_VALUES = [2, 2, 8, 8, 3, 3, 3, 7]
COUNTIES = Dimension("region", LEAVES, {**{x: "county-1" for x in "ABIJ"},
                                        **{x: "county-2" for x in "KLMN"}})
SIZES = Dimension("region", LEAVES, {**{x: "small" for x in "ABIJKN"},
                                     **{x: "big" for x in "LM"}})
PERSONS = np.arange(1, sum(LEAF_VALUES) + 1, dtype=np.uint64)
LEAF = np.repeat(np.arange(len(LEAVES)), LEAF_VALUES)


def _release(release_id: int, dimension: Dimension, hidden: str, new: bool) -> AuditRelease:
    structure = TableStructure([dimension])
    suppressed = np.zeros(structure.n_cells, dtype=bool)
    for leaf in hidden:
        suppressed[structure.index((leaf,))] = True
    return AuditRelease(release_id, TableFigures(structure, Membership(PERSONS, LEAF)),
                        suppressed, 4, new=new)


def _signatures() -> Signatures:
    signatures = Signatures()
    for release_id in (1, 2):
        signatures.add(release_id, Membership(PERSONS, LEAF))
    return signatures


def test_a_later_round_does_not_check_again_what_an_earlier_round_proved(monkeypatch):
    checked: list[tuple[bytes, bool]] = []
    prove = joint._proven

    def spy(lps, pool, form, value, k):
        met = prove(lps, pool, form, value, k)
        checked.append((joint._requirement_key(form, value, k), met))
        return met

    monkeypatch.setattr(joint, "_proven", spy)
    releases = [_release(1, COUNTIES, "ABKLM", new=False), _release(2, SIZES, "ABKLM", new=True)]
    result = joint_audit(releases, _signatures(), 4)
    assert result.rounds >= 2 and result.added
    proven = [key for key, met in checked if met]
    assert proven
    for i, (key, _) in enumerate(checked):
        assert key not in {earlier for earlier, met in checked[:i] if met}


def test_the_cells_it_hides_pass_an_audit_from_scratch():
    releases = [_release(1, COUNTIES, "ABKLM", new=False), _release(2, SIZES, "ABKLM", new=True)]
    joint_audit(releases, _signatures(), 4)
    hidden = releases[1].suppressed.copy()
    again = [_release(1, COUNTIES, "ABKLM", new=False), _release(2, SIZES, "", new=True)]
    again[1].suppressed[:] = hidden
    assert joint_audit(again, _signatures(), 4).added == {}
