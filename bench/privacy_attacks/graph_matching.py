"""Graph-matching attack on Bloom-filter encodings (after Vidanage et al., CIKM 2020),
key-less: the encodings the broker holds and the attacker's own plaintext list.

The attacker encodes its list with the same public schema under a key of its own: the
similarity of two persons is then about the same on both sides, although no single bit is.
So each side is a similarity graph over its records, and a person keeps their place in it.

1. **Seeds**: pairs (encoded record, attacker record) believed to be the same person. Known
   pairs: a few persons the attacker can point at anyway (an insider knows some people in the
   register). From pattern mining: an encoded record whose rebuilt name is held by exactly one record of
   the list (and rebuilt for no other record). From node features alone: each record's
   number of set bits, a histogram of its similarities to all records and its similarities
   to its nearest neighbours, matched as vectors; the mutual best pairs with the widest margin.
2. **Landmarks**: every record is described by its similarities to the seed records of its
   own side. The same person has about the same vector on both sides; records are matched
   by the correlation of these vectors, one to one (mutual best), and 1.5 times as many of
   the most confident matches as there were landmarks become the landmarks of the next round
   (so a minority of right seeds is enough: wrong ones drop out).

Scoring (the truth is read only there): the share of the encoded persons present in the
attacker's list whose record was matched to the right attacker record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEIGHBOURS = 20
"""Nearest neighbours whose similarities make a record's node features."""
HISTOGRAM_BINS = 32
FEATURE_SEEDS = (25, 50, 100, 200)
"""How many seeds from node features alone (the widest-margin mutual best pairs) to try."""
ROUNDS = 14
GROWTH = 1.5
"""Each round keeps this many times as many of its most confident matches as landmarks."""
LANDMARKS = 2000
"""At most this many seed pairs describe a record (the most confident)."""
BLOCK = 2048


@dataclass(frozen=True)
class GraphResult:
    matches: dict[int, int]
    """Encoded record -> attacker record, as the attack decided."""
    seeds: int
    confidence: float
    """Mean margin of the matches (best correlation of landmark vectors minus the second
    best): what the attacker sees of its own success without any truth."""

    def reidentified(self, victim_person: np.ndarray, attacker_person: np.ndarray,
                     known: frozenset[int] = frozenset()) -> float:
        """Share of the encoded persons in the attacker's list matched to their own record
        (leaving out the ``known`` encoded records the attacker started from)."""
        present = set(attacker_person.tolist())
        shared = [i for i, person in enumerate(victim_person) if person in present and i not in known]
        right = sum(1 for i in shared if i in self.matches and attacker_person[self.matches[i]] == victim_person[i])
        return right / max(len(shared), 1)


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice similarities between the rows of two bit matrices (float32)."""
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    common = fa @ fb.T
    return 2 * common / np.maximum(fa.sum(1)[:, None] + fb.sum(1)[None, :], 1)


def node_features(bits: np.ndarray) -> np.ndarray:
    """Per record: its number of set bits, how many records lie at each level of similarity
    to it (a histogram, log counts) and its similarities to its nearest neighbours."""
    n = len(bits)
    edges = np.linspace(0.2, 1.0, HISTOGRAM_BINS + 1)
    histogram = np.zeros((n, HISTOGRAM_BINS), dtype=np.float32)
    top = np.zeros((n, NEIGHBOURS), dtype=np.float32)
    for start in range(0, n, BLOCK):
        block = dice(bits[start:start + BLOCK], bits)
        block[np.arange(len(block)), np.arange(start, start + len(block))] = 0
        bins = np.clip(np.searchsorted(edges, block, side="right") - 1, -1, HISTOGRAM_BINS)
        for b in range(HISTOGRAM_BINS):
            histogram[start:start + BLOCK, b] = (bins == b).sum(1)
        top[start:start + BLOCK] = -np.sort(-block, axis=1)[:, :NEIGHBOURS]
    features = np.column_stack([bits.sum(1), np.log1p(histogram), top]).astype(np.float32)
    return (features - features.mean(0)) / np.maximum(features.std(0), 1e-6)


def _mutual_best(score: np.ndarray) -> list[tuple[int, int, float]]:
    """(row, column, margin) of the pairs that are each other's best, widest margin first."""
    best_col = np.argmax(score, 1)
    best_row = np.argmax(score, 0)
    pairs = []
    for row, col in enumerate(best_col):
        if best_row[col] != row:
            continue
        ordered = np.partition(score[row], -2)[-2:] if score.shape[1] > 1 else np.array([0.0, score[row, col]])
        pairs.append((row, int(col), float(score[row, col] - ordered[0])))
    return sorted(pairs, key=lambda item: -item[2])


def feature_seeds(victim_bits: np.ndarray, attacker_bits: np.ndarray) -> list[tuple[int, int]]:
    """Seed pairs from node features alone, the most distinct first."""
    fv, fa = node_features(victim_bits), node_features(attacker_bits)
    distance = (fv**2).sum(1)[:, None] + (fa**2).sum(1)[None, :] - 2 * fv @ fa.T
    return [(i, j) for i, j, _ in _mutual_best(-distance)[:max(FEATURE_SEEDS)]]


def attack_best(victim_bits: np.ndarray, attacker_bits: np.ndarray, seeds: list[tuple[int, int]]) -> GraphResult:
    """Run from the first 25, 50, ... seeds and keep the outcome the attacker trusts most
    (its own confidence, no truth): a handful of right seeds among wrong ones is enough,
    but which handful depends on chance."""
    outcomes = [attack(victim_bits, attacker_bits, seeds[:count]) for count in FEATURE_SEEDS]
    return max(outcomes, key=lambda outcome: outcome.confidence)


def known_pairs(victim_person: np.ndarray, attacker_person: np.ndarray, count: int,
                seed: int = 0) -> list[tuple[int, int]]:
    """``count`` true pairs: persons whose encoded record the attacker can point at anyway
    (an operator who knows some people in the register: colleagues, itself). Read from the
    truth, because that is what such an attacker knows."""
    where = {person: j for j, person in enumerate(attacker_person.tolist())}
    pairs = [(i, where[person]) for i, person in enumerate(victim_person.tolist()) if person in where]
    chosen = np.random.default_rng(seed).choice(len(pairs), min(count, len(pairs)), replace=False)
    return [pairs[k] for k in chosen]


def name_seeds(guesses: list, attacker_names: list) -> list[tuple[int, int]]:
    """Seed pairs from pattern mining: a rebuilt name held once in the list, guessed once."""
    holders: dict = {}
    for j, name in enumerate(attacker_names):
        holders.setdefault(name, []).append(j)
    guessed: dict = {}
    for i, name in enumerate(guesses):
        if name is not None:
            guessed.setdefault(name, []).append(i)
    return [(rows[0], holders[name][0]) for name, rows in guessed.items()
            if len(rows) == 1 and len(holders.get(name, ())) == 1]


def _standardised(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(1, keepdims=True)
    return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-6)


def attack(victim_bits: np.ndarray, attacker_bits: np.ndarray, seeds: list[tuple[int, int]]) -> GraphResult:
    """Match encoded records to the attacker's records, starting from ``seeds``."""
    matches: dict[int, int] = dict(seeds)
    final, confidence = dict(seeds), 0.0
    for _ in range(ROUNDS):
        if len(matches) < 3:
            break
        pairs = list(matches.items())[:LANDMARKS]
        lv = _standardised(dice(victim_bits, victim_bits[[i for i, _ in pairs]]))
        la = _standardised(dice(attacker_bits, attacker_bits[[j for _, j in pairs]]))
        score = lv @ la.T
        found = _mutual_best(score)
        final = {i: j for i, j, _ in found}
        confidence = float(np.mean([margin for _, _, margin in found])) if found else 0.0
        # Wrong seeds drop out: the next landmarks are this round's most confident matches.
        matches = {i: j for i, j, _ in found[:int(GROWTH * len(matches)) + 1]}
    return GraphResult(matches=final, seeds=len(seeds), confidence=confidence)
