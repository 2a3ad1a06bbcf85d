"""``link``: the whole engine on synthetic populations and on real clkhash encodings."""

from __future__ import annotations

import copy

import dataclasses
import math

import numpy as np
import pytest
from clkhash import clk, schema
from faker import Faker

from linkage.matching import EncodedSet, LinkResult, MatchingError, link

from .helpers import population


def _precision_recall(pop, result: LinkResult, p: int, q: int) -> tuple[float, float]:
    truth = pop.true_pairs(p, q)
    found = pop.linked_pairs(result.group_ids, p, q)
    return len(truth & found) / max(1, len(found)), len(truth & found) / max(1, len(truth))


def _one_record_per_source(result: LinkResult) -> bool:
    for groups in result.group_ids:
        if len(np.unique(groups)) != len(groups):
            return False
    return True


def test_three_sources_link_with_tokens_and_similarity():
    pop = population(11, 3000, {"ksz": (1.0, 0.0, 0.9), "vdab": (0.5, 0.03, 0.8), "education": (0.4, 0.05, 0.3)})
    result = link(pop.sets)
    assert result.threshold_origin == "automatic"
    assert result.quality["threshold"]["method"] == "model"
    assert _one_record_per_source(result)
    for p, q in ((0, 1), (0, 2), (1, 2)):
        precision, recall = _precision_recall(pop, result, p, q)
        assert precision >= 0.99 and recall >= 0.99, (p, q, precision, recall)
    pairs = {tuple(x["sources"]): x for x in result.quality["pairs"]}
    assert pairs[("ksz", "vdab")]["exact"] > 0 and pairs[("ksz", "vdab")]["similarity"] > 0
    assert pairs[("ksz", "vdab")]["linked"] == pairs[("ksz", "vdab")]["exact"] + pairs[("ksz", "vdab")]["similarity"]
    model = pairs[("ksz", "vdab")]["model"]
    assert model["method"] == "token pairs" and model["token_pairs"] > 1000
    # about 15 % of vdab's 1,500 records lack a token partner; the model expects them
    assert abs(model["expected_matches"] - pairs[("ksz", "vdab")]["similarity"]) <= 10


def test_group_ids_number_groups_in_order_of_first_appearance():
    pop = population(12, 400, {"a": (1.0, 0.0, 0.5), "b": (0.5, 0.02, 0.5)})
    result = link(pop.sets)
    ids = np.concatenate(result.group_ids)
    assert [len(g) for g in result.group_ids] == [400, 200]
    assert all(g.dtype == np.int64 for g in result.group_ids)
    assert result.group_ids[0].tolist() == list(range(400))  # every 'a' record opens a group
    assert ids.max() == 399


def test_given_threshold_is_used_and_reported():
    pop = population(13, 500, {"a": (1.0, 0.0, 0.0), "b": (0.6, 0.02, 0.0)})
    result = link(pop.sets, threshold=0.99)
    assert (result.threshold, result.threshold_origin) == (0.99, "given")
    _, recall = _precision_recall(pop, result, 0, 1)
    assert recall < 0.5      # 2 % bit flips put true pairs below 0.99
    assert _precision_recall(pop, link(pop.sets, threshold=0.8), 0, 1)[1] >= 0.99


def test_lsh_blocking_gives_the_same_links_on_clear_cases():
    pop = population(14, 2000, {"a": (1.0, 0.0, 0.0), "b": (0.5, 0.02, 0.0)})
    exhaustive = link(pop.sets, threshold=0.8, blocking="none")
    blocked = link(pop.sets, threshold=0.8, blocking="lsh")
    assert blocked.quality["pairs"][0]["comparison"]["method"] == "lsh"
    assert blocked.quality["pairs"][0]["comparison"]["scored"] < 0.05 * 2000 * 1000
    same = pop.linked_pairs(blocked.group_ids, 0, 1) & pop.linked_pairs(exhaustive.group_ids, 0, 1)
    assert len(same) >= 0.99 * len(pop.linked_pairs(exhaustive.group_ids, 0, 1))


def test_quality_is_json_safe_and_holds_no_scores_per_record():
    import json

    pop = population(15, 300, {"a": (1.0, 0.0, 0.5), "b": (0.5, 0.03, 0.5)})
    quality = link(pop.sets).quality
    text = json.dumps(quality)
    assert "a-1" not in text and "b-1" not in text            # no record ids
    mutual = sum(quality["mutual_best_score_histogram"]["counts"])
    assert 0 < mutual <= sum(quality["candidate_score_histogram"]["counts"])
    model = quality["pairs"][0]["model"]
    assert set(model) >= {"method", "expected_matches", "threshold_mutual_best", "open_records"}


def test_empty_sets_link_to_nothing():
    pop = population(16, 50, {"a": (1.0, 0.0, 0.5), "b": (0.0, 0.0, 0.5)})
    result = link(pop.sets)
    assert [len(g) for g in result.group_ids] == [50, 0]
    assert result.quality["pairs"] == [] and result.threshold == 1.0


# -- real clkhash encodings --------------------------------------------------------------

SCHEMA = {
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64,
                                      "salt": "SCbL2zHNnmsckfzchsNkZY9XoHk96P/G5nUBrM7ybymlEFsMV6PAeDZCNp3rfNUPCtLDMOGQHG4pCQpfhiHCyA==",
                                      "info": "c2NoZW1hX2V4YW1wbGU="}},
    "features": [
        {"identifier": "given", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 30}, "hash": {"type": "blakeHash"}}},
        {"identifier": "surname", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 30}, "hash": {"type": "blakeHash"}}},
        {"identifier": "dob", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True}, "strategy": {"bitsPerToken": 15}, "hash": {"type": "blakeHash"}}},
        {"identifier": "sex", "format": {"type": "enum", "values": ["M", "F"]},
         "hashing": {"comparison": {"type": "exact"}, "strategy": {"bitsPerToken": 40}, "hash": {"type": "blakeHash"}}},
    ],
}


def _typo(rng: np.random.Generator, text: str) -> str:
    i = int(rng.integers(0, len(text)))
    return text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:i] + "x" + text[i:]


def _people(seed: int, n: int) -> list[list[str]]:
    fake = Faker("nl_BE")
    Faker.seed(seed)
    return [[fake.first_name(), fake.last_name(), fake.date_of_birth().strftime("%Y%m%d"), "MF"[i % 2]]
            for i in range(n)]


def _link_rows(register: list, others: list, shared: int, schema_json: dict = SCHEMA) -> tuple[int, int, LinkResult, EncodedSet]:
    """``register`` against ``others`` (real clkhash encodings), of which the first ``shared``
    are the register's first persons: the true pairs linked, the wrong ones, the result and
    the register's encoded set."""
    spec = schema.from_json_dict(schema_json)
    encode = lambda rows: np.stack([np.frombuffer(b.tobytes(), np.uint8) for b in clk.generate_clks(rows, spec, "secret")])  # noqa: E731
    a = EncodedSet("ksz", [f"k{i}" for i in range(len(register))], encode(register), [None] * len(register))
    b = EncodedSet("vdab", [f"v{i}" for i in range(len(others))], encode(others), [None] * len(others))
    result = link([a, b])
    linked = {(i, j) for j, g in enumerate(result.group_ids[1].tolist())
              for i in np.flatnonzero(result.group_ids[0] == g).tolist()}
    correct = sum((i, i) in linked for i in range(shared))
    return correct, len(linked) - correct, result, a


def _link_typos(schema_json: dict) -> tuple[int, int, float, float]:
    """400 persons against 200 of them with typos, encoded with ``schema_json``: the true
    pairs linked, the wrong ones, the threshold and the share of the CLKs' bits set."""
    rng, people = np.random.default_rng(17), _people(17, 400)
    noisy = [[_typo(rng, g), s if i % 3 else _typo(rng, s), d, x] for i, (g, s, d, x) in enumerate(people[:200])]
    correct, wrong, result, a = _link_rows(people, noisy, 200, schema_json)
    return correct, wrong, result.threshold, float(np.unpackbits(a.clks, axis=1).mean())


def test_real_clkhash_encodings_link_despite_typos():
    correct, wrong, threshold, _ = _link_typos(SCHEMA)
    assert correct >= 196 and wrong <= 2
    assert 0.5 < threshold < 0.95


def test_dense_encodings_link_too():
    """Three times the bits per n-gram: most unrelated pairs score above 0.7, where the
    candidate floor used to stop, and nothing was linked."""
    dense = copy.deepcopy(SCHEMA)
    for feature in dense["features"]:
        feature["hashing"]["strategy"]["bitsPerToken"] *= 3
    correct, wrong, threshold, fill = _link_typos(dense)
    assert fill > 0.8
    assert correct >= 196 and wrong <= 2
    assert threshold > 0.85


@pytest.mark.parametrize("shared, most_wrong", [(0, 8), (20, 5)])
def test_sets_that_share_few_persons_link_those_and_not_their_namesakes(shared, most_wrong):
    """2,000 register records against 200 others, ``shared`` of them in the register (a typo in
    the given name). The best candidates of the others are namesakes that stand out from the
    rest of their look-alikes no more than the largest of many unrelated scores does; EM took
    them for matches (no one shared: 24 false links; 20 shared: nothing linked at all)."""
    rng, people = np.random.default_rng(2), _people(2, 2200)
    others = [[_typo(rng, g), s, d, x] for g, s, d, x in people[:shared]] + people[2000:2200 - shared]
    correct, wrong, _, _ = _link_rows(people[:2000], others, shared)
    assert correct >= shared - 1 and wrong <= most_wrong


# -- bad input ----------------------------------------------------------------------------

def _two_sets():
    return population(18, 20, {"a": (1.0, 0.0, 0.5), "b": (0.5, 0.02, 0.5)}).sets


@pytest.mark.parametrize("threshold", [0, -0.1, 1.01, math.nan, math.inf])
def test_threshold_outside_the_unit_interval_is_refused(threshold):
    with pytest.raises(MatchingError, match=r"outside \(0, 1\]"):
        link(_two_sets(), threshold=threshold)


def test_mismatched_fingerprints_are_refused():
    a, b = _two_sets()
    with pytest.raises(MatchingError, match="different linkage configurations"):
        link([dataclasses.replace(a, fingerprint="f1"), dataclasses.replace(b, fingerprint="f2")])
    with pytest.raises(MatchingError, match="different linkage configurations"):
        link([dataclasses.replace(a, fingerprint="f1"), b])
    assert link([dataclasses.replace(a, fingerprint="f1"), dataclasses.replace(b, fingerprint="f1")])


def test_different_clk_lengths_are_refused():
    a, b = _two_sets()
    shorter = dataclasses.replace(b, clks=b.clks[:, :64])
    with pytest.raises(MatchingError, match="CLKs differ in length .*a 1024 bits, b 512 bits"):
        link([a, shorter])


def test_structural_problems_are_refused():
    a, b = _two_sets()
    with pytest.raises(MatchingError, match="at least two"):
        link([a])
    with pytest.raises(MatchingError, match="given more than once"):
        link([a, dataclasses.replace(b, source="a")])
    with pytest.raises(MatchingError, match=r"b: row 2: record id repeats"):
        link([a, dataclasses.replace(b, record_ids=["x", "x"] + list(b.record_ids[2:]))])
    with pytest.raises(MatchingError, match="differ in number"):
        link([a, dataclasses.replace(b, record_ids=list(b.record_ids[:-1]))])


def test_a_threshold_below_every_unrelated_score_still_links_within_bounded_candidates():
    # random CLKs score about 0.35, so at 0.3 every pair of records qualifies: each record
    # keeps its best pairs instead of the run stopping or raising its floor
    pop = population(19, 400, {"a": (1.0, 0.0, 0.0), "b": (0.5, 0.02, 0.0)})
    result = link(pop.sets, threshold=0.3)
    comparison = result.quality["pairs"][0]["comparison"]
    assert comparison["floor"] == 0.3
    assert comparison["above_floor"] > 0.9 * comparison["scored"]        # nearly every pair qualified
    k = comparison["best_per_record"]
    assert comparison["candidates"] <= k * (comparison["left"] + comparison["right"])
    precision, recall = _precision_recall(pop, result, 0, 1)
    assert precision >= 0.99 and recall >= 0.99


def test_progress_is_reported_stage_by_stage():
    pop = population(20, 200, {"a": (1.0, 0.0, 0.5), "b": (0.5, 0.02, 0.5), "c": (0.5, 0.02, 0.0)})
    seen = []
    link(pop.sets, progress=lambda stage, fraction: seen.append((stage, fraction)))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "sampling unrelated pairs" and stages[-1] == "clustering"
    assert {"similarity a-b", "similarity a-c", "similarity b-c"} <= set(stages)
    assert all(0.0 <= fraction <= 1.0 for _, fraction in seen)
