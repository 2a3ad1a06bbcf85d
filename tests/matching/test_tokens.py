"""Exact-token linkage: the hash join, duplicates within a source, contradicted tokens."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.matching import MatchingError
from linkage.matching.records import Records
from linkage.matching.tokens import link_tokens

from .helpers import perturb, random_clks

T1, T2, T3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def _records(rng, *sizes):
    return [random_clks(rng, n) for n in sizes]


def _link(clks, tokens, bound=0.6):
    records = Records.from_clks(clks)
    names = [f"s{k}" for k in range(len(clks))]
    return link_tokens(tokens, names, records, bound), records


def test_records_sharing_a_token_across_sources_form_one_group():
    rng = np.random.default_rng(1)
    a, b, c = _records(rng, 3, 3, 2)
    b[2] = perturb(rng, a[:1], 0.02)[0]
    c[0] = perturb(rng, a[:1], 0.02)[0]
    links, records = _link([a, b, c], [[T1, None, T2], [None, T3, T1], [T1, None]])
    group = links.cluster
    assert group[0] == group[3 + 2] == group[6 + 0]          # T1 in all three sources
    assert len(set(group.tolist())) == 8 - 2                  # everything else alone
    assert links.stats["token_groups"] == 1


def test_a_token_seen_in_one_source_only_links_nothing():
    rng = np.random.default_rng(2)
    a, b = _records(rng, 2, 2)
    a[1] = a[0]
    links, _ = _link([a, b], [[T1, T1], [None, T2]])
    assert links.cluster.tolist() == [0, 1, 2, 3]
    assert not links.excluded.any()


def test_duplicate_token_within_a_source_links_the_best_agreeing_record():
    rng = np.random.default_rng(3)
    a, b = _records(rng, 3, 1)
    a[0] = perturb(rng, a[2:3], 0.15)[0]                     # the same person registered twice
    b[0] = perturb(rng, a[2:3], 0.02)[0]                     # a[2] is the person in b
    links, _ = _link([a, b], [[T1, None, T1], [T1]])
    assert links.cluster[2] == links.cluster[3]
    assert links.cluster[0] == 0 and links.excluded[0]       # the other duplicate is set aside
    assert links.stats["per_set"]["s0"]["duplicates_set_aside"] == 1


def test_a_duplicate_token_on_another_person_goes_on_to_similarity_matching():
    rng = np.random.default_rng(6)
    a, b = _records(rng, 3, 1)
    b[0] = perturb(rng, a[2:3], 0.02)[0]
    # a[0] is someone else carrying a[2]'s national number: it must stay free to find its own
    links, _ = _link([a, b], [[T1, None, T1], [T1]])
    assert links.cluster[2] == links.cluster[3]
    assert links.cluster[0] == 0 and not links.excluded[0]
    assert links.stats["per_set"]["s0"] == {"with_token": 2, "duplicates_set_aside": 0, "vetoed": 1}
    trusting, _ = _link([a, b], [[T1, None, T1], [T1]], bound=None)
    assert trusting.excluded[0]                              # without the veto it is set aside


def test_a_token_contradicted_by_the_clks_is_vetoed():
    rng = np.random.default_rng(4)
    a, b = _records(rng, 2, 2)
    b[1] = perturb(rng, a[1:2], 0.02)[0]
    # T1 joins two unrelated people (a national number recorded against the wrong person)
    links, _ = _link([a, b], [[T1, T2], [T1, T2]])
    assert links.cluster[0] != links.cluster[2]
    assert links.cluster[1] == links.cluster[3]
    assert links.stats["vetoed_records"] == 2
    without_veto, _ = _link([a, b], [[T1, T2], [T1, T2]], bound=None)
    assert without_veto.cluster[0] == without_veto.cluster[2]


def test_the_veto_removes_only_the_member_that_contradicts_everyone():
    rng = np.random.default_rng(5)
    a, b, c = _records(rng, 1, 1, 1)
    b[0] = perturb(rng, a, 0.02)[0]
    links, _ = _link([a, b, c], [[T1], [T1], [T1]])
    assert links.cluster[0] == links.cluster[1] != links.cluster[2]
    assert links.stats["per_set"]["s2"]["vetoed"] == 1


def test_a_token_of_the_wrong_length_names_source_and_row():
    rng = np.random.default_rng(6)
    with pytest.raises(MatchingError, match=r"s1: row 2: exact token is not 32 bytes"):
        _link(_records(rng, 1, 2), [[T1], [T1, b"short"]])


def test_tokens_sharing_their_first_eight_bytes_are_still_told_apart():
    rng = np.random.default_rng(7)
    a, b = _records(rng, 3, 3)
    b[:] = perturb(rng, a, 0.02)
    prefix = b"\x09" * 8
    x, y, z = prefix + b"\x01" * 24, prefix + b"\x02" * 24, prefix + b"\x00" * 24
    # interleaved after a sort on the first word alone: x, y, x, z, y, z
    links, _ = _link([a, b], [[x, y, z], [x, y, z]])
    assert [links.cluster[i] == links.cluster[3 + i] for i in range(3)] == [True] * 3
    assert len(set(links.cluster.tolist())) == 3


def test_a_token_that_is_not_bytes_is_refused():
    rng = np.random.default_rng(8)
    with pytest.raises(MatchingError, match=r"s0: row 1: exact token is not 32 bytes"):
        _link(_records(rng, 1, 1), [["x" * 32], [T1]])


R1, R2, B1 = b"\x01" + b"\x11" * 31, b"\x01" + b"\x12" * 31, b"\x02" + b"\x21" * 31


def _link_replaced(clks, tokens, replaced, bound=0.6):
    records = Records.from_clks(clks)
    return link_tokens(tokens, [f"s{k}" for k in range(len(clks))], records, bound, replaced)


def test_a_record_still_holding_the_replaced_bis_number_joins_the_register_number():
    rng = np.random.default_rng(11)
    a, b, c = _records(rng, 2, 2, 1)
    b[1] = perturb(rng, a[:1], 0.02)[0]
    c[0] = perturb(rng, a[:1], 0.02)[0]
    tokens = [[R1, R2], [None, B1], [R1]]
    plain = _link_replaced([a, b, c], tokens, None)
    assert plain.cluster[3] == 3                               # the old number alone links nothing
    links = _link_replaced([a, b, c], tokens, [[B1, None], None, None])
    assert links.cluster[0] == links.cluster[3] == links.cluster[4]
    assert links.register[3] == links.register[0] >= 0        # it is that register person now
    assert links.stats["replaced_numbers_read"] == 1
    assert links.stats["token_groups"] == 1


def test_a_replaced_number_claimed_by_two_register_numbers_is_ignored():
    rng = np.random.default_rng(12)
    a, b = _records(rng, 2, 1)
    b[0] = perturb(rng, a[:1], 0.02)[0]
    links = _link_replaced([a, b], [[R1, R2], [B1]], [[B1, B1], None])
    assert links.cluster.tolist() == [0, 1, 2]
    assert links.stats["replaced_numbers_read"] == 0


def test_a_replaced_number_on_the_wrong_person_is_still_vetoed_by_the_clks():
    rng = np.random.default_rng(13)
    a, b = _records(rng, 1, 1)                                # unrelated CLKs
    links = _link_replaced([a, b], [[R1], [B1]], [[B1], None])
    assert links.stats["replaced_numbers_read"] == 1
    assert links.cluster.tolist() == [0, 1]
    assert links.stats["vetoed_records"] == 2


def test_a_replaced_token_of_the_wrong_length_is_refused():
    rng = np.random.default_rng(14)
    a, b = _records(rng, 1, 1)
    with pytest.raises(MatchingError, match="s0: row 1: replaced-number token is not 32 bytes"):
        _link_replaced([a, b], [[R1], [B1]], [[b"short"], None])
