"""Different national-register numbers are evidence against a link (issue 22, step 3).

A token's first byte says the kind of number (``linkage.insz.KIND_BYTE``): 1 for a
national-register number, 2 for a BIS number. Two records with different register numbers
are never linked by similarity, however alike their names and birth dates; a BIS number
later replaced by a register number, and a register number the CLKs contradict (recorded
against the wrong person), say nothing against a link.
"""

from __future__ import annotations

import numpy as np

from linkage.insz import KIND_BYTE, exact_token, parse_insz, token_key
from linkage.matching import EncodedSet, link
from linkage.matching.records import Records
from linkage.matching.tokens import link_tokens

from .helpers import perturb, random_clks


def _token(kind: str, tag: int) -> bytes:
    return bytes([KIND_BYTE[kind]]) + bytes([tag]) * 31


NR1, NR2, NR3, BIS1 = _token("nn", 1), _token("nn", 2), _token("nn", 3), _token("bis", 4)


def _set(name: str, clks: np.ndarray, tokens: list[bytes | None]) -> EncodedSet:
    return EncodedSet(name, [f"{name}-{i}" for i in range(len(clks))], clks, tokens)


def _together(result, a: tuple[int, int], b: tuple[int, int]) -> bool:
    return int(result.group_ids[a[0]][a[1]]) == int(result.group_ids[b[0]][b[1]])


def _people(seed: int, n: int = 40):
    """CLKs of ``n`` unrelated persons and a close copy of person 0 (a namesake born the
    same day, or the same person in another register)."""
    rng = np.random.default_rng(seed)
    clks = random_clks(rng, n)
    return rng, clks, perturb(rng, clks[:1], 0.01)


def test_the_token_says_which_kind_of_number_it_stands_for():
    key = token_key(b"a project secret")
    register = exact_token(parse_insz("85073003328"), key)
    assert register[0] == KIND_BYTE["nn"] and len(register) == 32
    bis = parse_insz("85273003371")
    assert bis is not None and bis.kind == "bis"
    assert exact_token(bis, key)[0] == KIND_BYTE["bis"]


def test_each_record_keeps_its_register_number_unless_the_clks_contradict_it():
    rng = np.random.default_rng(5)
    a, b = random_clks(rng, 4), random_clks(rng, 3)
    b[0] = perturb(rng, a[:1], 0.02)[0]          # NR1 in both: the same person
    # b[1] carries a[1]'s number but is someone else (its CLK contradicts a[1])
    links = link_tokens([[NR1, NR2, BIS1, None], [NR1, NR2, NR3]], ["a", "b"],
                        Records.from_clks([a, b]), 0.6)
    register = links.register
    assert register[0] == register[4] >= 0                    # the same number, one identity
    assert register[5] == -1 and register[1] == -1            # contradicted: no evidence
    assert register[6] >= 0 and register[6] != register[0]    # NR3: a number of its own
    assert register[2] == register[3] == -1                   # a BIS number, no number


def test_records_with_different_register_numbers_are_not_linked_however_alike():
    _, clks, namesake = _people(1)
    result = link([_set("ksz", clks, [NR1] + [None] * 39), _set("vdab", namesake, [NR2])],
                  threshold=0.8)
    assert not _together(result, (0, 0), (1, 0))
    comparison = result.quality["pairs"][0]["comparison"]
    assert comparison["register_conflicts"] == 1


def test_the_same_records_link_when_one_number_is_missing_or_a_bis_number():
    _, clks, copy = _people(2)
    for token in (None, BIS1):
        result = link([_set("ksz", clks, [NR1] + [None] * 39), _set("vdab", copy, [token])],
                      threshold=0.8)
        assert _together(result, (0, 0), (1, 0)), token


def test_a_group_never_gathers_two_register_numbers_through_a_record_without_one():
    """ksz holds NR1, vdab NR2 (a namesake), education no number: education may join one of
    them, never both."""
    rng, clks, first = _people(3)
    second = perturb(rng, clks[:1], 0.01)
    result = link([_set("ksz", clks, [NR1] + [None] * 39), _set("vdab", first, [NR2]),
                   _set("education", second, [None])], threshold=0.8)
    assert not _together(result, (0, 0), (1, 0))
    assert _together(result, (2, 0), (0, 0)) or _together(result, (2, 0), (1, 0))
    assert result.quality["solver"]["rejected_register_conflict"] == 1


def test_a_wrong_register_number_the_clks_contradict_does_not_block_the_true_link():
    """vdab recorded person 1's number against person 0: the token join is vetoed by the
    CLKs, and person 0's vdab record still links to person 0 by similarity."""
    _, clks, copy = _people(4)
    result = link([_set("ksz", clks, [NR1, NR2] + [None] * 38), _set("vdab", copy, [NR2])],
                  threshold=0.8)
    assert _together(result, (0, 0), (1, 0))
    assert not _together(result, (0, 1), (1, 0))


def test_records_both_joined_to_the_register_are_not_compared_again_in_another_pair():
    """Persons 0 and 1 are namesakes born the same day. B's record of 0 and C's record of 1 are
    each joined by its token to its own register record: linking them would put two register
    records in one cluster. The pair B-C does not compare them (nothing to drop as a conflict)
    and still compares what can link."""
    rng, clks, _ = _people(8)
    register = np.concatenate([clks[:1], perturb(rng, clks[:1], 0.08), clks[2:30]])
    b = np.concatenate([perturb(rng, register[:1], 0.01), clks[30:31]])
    c = np.concatenate([perturb(rng, register[1:2], 0.01), perturb(rng, clks[30:31], 0.01)])
    sets = [_set("register", register, [NR1, NR2, NR3] + [None] * 27), _set("b", b, [NR1, None]),
            _set("c", c, [NR2, None])]
    result = link(sets, threshold=0.8)
    assert _together(result, (0, 0), (1, 0)) and _together(result, (0, 1), (2, 0))
    pair = next(p for p in result.quality["pairs"] if p["sources"] == ["b", "c"])
    assert pair["comparison"]["register_conflicts"] == 0
    assert pair["comparison"]["scored"] == 3  # b0 x c1, b1 x c0, b1 x c1; never b0 x c0
    assert not _together(result, (1, 0), (2, 0))
    assert _together(result, (1, 1), (2, 1))  # person 30, in no register record, links
