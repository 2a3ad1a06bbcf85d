"""Pattern-mining attack on Bloom-filter encodings (after Christen et al., PAKDD 2017/2018,
TKDE 2019), key-less: only the encodings and a public list of plaintext records.

1. **Mine atoms**: a token (q-gram or exact value) sets the same bit positions in every
   record that contains it, so its positions co-occur far more often than their
   frequencies predict. Seeds are the column pairs with the largest excess co-occurrence;
   each seed is grown greedily into the set of columns set together in (almost) all of its
   records: an *atom* with its support (the records that hold it).
2. **Align atoms with tokens** of the public list: first by frequency and pattern length
   (the schema says how many bits a token sets), then refined by the co-occurrence profile
   of each atom with the most frequent atoms against that of each token with the most
   frequent tokens (Hungarian assignment each time).
3. **Rebuild names**: a record holds the tokens whose atoms are (almost) all set in it;
   the name from the public list whose aligned tokens agree best (Dice) with those is the
   guess. Ties go to the more frequent name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from privacy_attacks.scenario import Plaintext

MIN_SUPPORT = 0.004
"""Atoms and tokens held by fewer records than this share are not mined."""
GROW_RATIO = 0.95
"""A column joins an atom while (almost) all of the atom's records have it set."""
CORE = 0.97
"""An atom's positions: the columns set in this share of its records."""
PRESENT = 0.9
"""A record holds an atom when this share of its positions is set (tolerates flips)."""
MIN_LENGTH = 10
MAX_SEEDS = 4000
MAX_FUTILE = 400
"""Seeding stops after this many seeds in a row gave no new atom."""
SAME = 0.7
REFINE = 4
LENGTH_WEIGHT = 3.0
IMPROVE_ROUNDS = 8


@dataclass(frozen=True)
class Atom:
    positions: np.ndarray
    support: np.ndarray
    """bool (n,): the records that hold the atom."""


@dataclass(frozen=True)
class PatternResult:
    guesses: list[tuple[str | None, ...] | None]
    """Per encoded record, the rebuilt name (None where no atom aligned)."""
    atoms: int
    aligned: int
    aligned_correct: int
    """Aligned atoms whose token really is what the atom encodes (scoring only)."""

    def rebuilt(self, truth: list[tuple[str | None, ...]]) -> float:
        """Share of records whose name was rebuilt exactly."""
        return sum(g == t for g, t in zip(self.guesses, truth)) / len(truth)


def mine_atoms(bits: np.ndarray) -> list[Atom]:
    n, _ = bits.shape
    floating = bits.astype(np.float32)
    counts = floating.sum(0)
    together = floating.T @ floating
    excess = together - np.outer(counts, counts) / n
    np.fill_diagonal(excess, -np.inf)
    upper = np.triu_indices(len(counts), 1)
    order = np.argsort(excess[upper])[::-1][:MAX_SEEDS * 4]
    covered = np.zeros_like(together, dtype=bool)
    min_support = max(int(MIN_SUPPORT * n), 8)
    atoms, tried, futile = [], 0, 0
    for index in order:
        i, j = upper[0][index], upper[1][index]
        if covered[i, j]:
            continue
        tried, futile = tried + 1, futile + 1
        if tried > MAX_SEEDS or futile > MAX_FUTILE:
            break
        atom = _grow(bits, [int(i), int(j)], min_support)
        covered[i, j] = covered[j, i] = True
        if atom is not None:
            covered[np.ix_(atom.positions, atom.positions)] = True
            if not any(_same(atom, other) for other in atoms):
                atoms.append(atom)
                futile = 0
    return _without_compounds(atoms)


def _without_compounds(atoms: list[Atom]) -> list[Atom]:
    """Drop atoms that contain another atom's positions: a seed whose two columns belong to
    two tokens that often occur together grows into the pair of them."""
    kept: list[Atom] = []
    for atom in sorted(atoms, key=lambda a: len(a.positions)):
        members = set(atom.positions.tolist())
        if not any(len(members.intersection(k.positions.tolist())) >= 0.8 * len(k.positions) for k in kept):
            kept.append(atom)
    return kept


def _same(a: Atom, b: Atom) -> bool:
    """Two seeds grown into the atom of one token: their supports mostly coincide."""
    both = np.count_nonzero(a.support & b.support)
    return both >= SAME * np.count_nonzero(a.support | b.support)


def _grow(bits: np.ndarray, seed: list[int], min_support: int) -> Atom | None:
    chosen = list(seed)
    holds = bits[:, seed[0]] & bits[:, seed[1]]
    while True:
        size = int(holds.sum())
        if size < min_support:
            return None
        counts = bits[holds].sum(0)
        counts[chosen] = -1
        best = int(np.argmax(counts))
        if len(chosen) >= MIN_LENGTH and counts[best] < GROW_RATIO * size:
            break
        chosen.append(best)
        holds &= bits[:, best]
    support = holds
    for _ in range(REFINE):
        # A fixed point: the columns set in (almost) all records holding (almost) all of them.
        positions = np.flatnonzero(bits[support].mean(0) >= CORE)
        if len(positions) < MIN_LENGTH:
            return None
        support = bits[:, positions].mean(1) >= PRESENT
        if support.sum() < min_support:
            return None
    return Atom(positions, support)


def _token_table(plain: Plaintext, min_count: int):
    """The tokens held by at least ``min_count`` records, which records hold them, and the
    pattern length to expect (the bits the token sets in nearly all of its records)."""
    counts = Counter(item for items in plain.tokens for item in items)
    items = [item for item, c in counts.most_common() if c >= min_count]
    index = {item: k for k, item in enumerate(items)}
    holds = np.zeros((len(plain.tokens), len(items)), dtype=bool)
    bits: list[list[int]] = [[] for _ in items]
    for r, (record, weights) in enumerate(zip(plain.tokens, plain.bits_per_token)):
        for item in record:
            k = index.get(item)
            if k is not None:
                holds[r, k] = True
                bits[k].append(weights[item])
    length = np.array([np.quantile(b, 1 - CORE) for b in bits]) if items else np.zeros(0)
    return items, holds, length


def align(atoms: list[Atom], plain: Plaintext, n_encoded: int) -> dict[int, tuple[int, str]]:
    """Atom index → (feature, token) of the public list: a quadratic assignment of atoms to
    tokens (frequency, pattern length, and every pairwise co-occurrence must agree), started
    from the frequency assignment and improved by swaps and moves until none helps."""
    if not atoms:
        return {}
    items, holds, length = _token_table(plain, max(int(MIN_SUPPORT * len(plain.tokens)), 8))
    if not items:
        return {}
    n_plain = len(plain.tokens)
    atom_matrix = np.stack([a.support for a in atoms], 1).astype(np.float32)
    token_matrix = holds.astype(np.float32)
    atom_rate = (atom_matrix.T @ atom_matrix) / n_encoded
    token_rate = (token_matrix.T @ token_matrix) / n_plain
    atom_length = np.array([len(a.positions) for a in atoms], dtype=float)
    unary = (_z(np.diag(atom_rate)[:, None], n_encoded, np.diag(token_rate)[None, :], n_plain)
             + LENGTH_WEIGHT * np.abs(np.log(atom_length[:, None]) - np.log(length[None, :])))
    rows, cols = linear_sum_assignment(unary)
    if len(rows) < len(atoms):  # more atoms than tokens: the unassigned atoms are left out
        atom_rate = atom_rate[np.ix_(rows, rows)]
        unary = unary[rows]
    assignment = _improve(cols.copy(), unary, atom_rate, n_encoded, token_rate, n_plain)
    return {int(r): items[int(c)] for r, c in zip(rows, assignment)}


def _z(x, n, y, m) -> np.ndarray:
    """How many standard errors apart two observed rates are."""
    return np.abs(x - y) / np.sqrt(x / n + y / m + 1e-6)


def _improve(pi, unary, atom_rate, n, token_rate, m) -> np.ndarray:
    size = len(pi)
    others = np.ones(size, dtype=bool)

    def pair_cost(a: int, token: np.ndarray | int) -> np.ndarray:
        """Mean disagreement of atom a's co-occurrences with the others if a were ``token``."""
        others[a] = False
        cost = _z(atom_rate[a, others][None, :], n, token_rate[np.atleast_1d(token)][:, pi[others]], m).mean(1)
        others[a] = True
        return cost

    for _ in range(IMPROVE_ROUNDS):
        changed = 0
        for a in range(size):
            unused = np.setdiff1d(np.arange(token_rate.shape[0]), pi)
            current = unary[a, pi[a]] + pair_cost(a, pi[a])[0]
            if len(unused):
                moved = unary[a, unused] + pair_cost(a, unused)
                best = int(np.argmin(moved))
                if moved[best] < current - 1e-9:
                    pi[a] = unused[best]
                    changed += 1
                    continue
            partners = np.arange(a + 1, size)
            if not len(partners):
                continue
            before = current + np.array([unary[b, pi[b]] + pair_cost(b, pi[b])[0] for b in partners])
            after = unary[a, pi[partners]] + unary[partners, pi[a]]
            for k, b in enumerate(partners):
                pi[a], pi[b] = pi[b], pi[a]
                after[k] += pair_cost(a, pi[a])[0] + pair_cost(b, pi[b])[0]
                pi[a], pi[b] = pi[b], pi[a]
            best = int(np.argmin(after - before))
            if after[best] < before[best] - 1e-9:
                b = partners[best]
                pi[a], pi[b] = pi[b], pi[a]
                changed += 1
        if not changed:
            break
    return pi


def attack(bits: np.ndarray, plain: Plaintext, truth: Plaintext | None = None) -> PatternResult:
    """Rebuild the name features of every encoded record from ``plain`` (the public list).

    ``truth`` is used only to count how many aligned atoms were right."""
    atoms = mine_atoms(bits)
    aligned = align(atoms, plain, len(bits))
    names = sorted(Counter(plain.name).items(), key=lambda kv: -kv[1])
    name_values = [name for name, _ in names]
    used = [(a, item) for a, item in aligned.items() if item[0] in plain.name_features]
    if not used:
        return PatternResult([None] * len(bits), len(atoms), len(aligned), 0)
    column = {item: k for k, (_, item) in enumerate(used)}
    holds = np.stack([bits[:, atoms[a].positions].mean(1) >= PRESENT for a, _ in used], 1).astype(np.float32)
    by_name = {}
    for name, items in zip(plain.name, plain.tokens):
        by_name.setdefault(name, {column[i] for i in items if i in column})
    candidate = np.zeros((len(name_values), len(used)), dtype=np.float32)
    for k, name in enumerate(name_values):
        candidate[k, list(by_name[name])] = 1.0
    guesses: list = []
    sizes = candidate.sum(1)
    for start in range(0, len(bits), 2048):
        block = holds[start:start + 2048]
        common = block @ candidate.T
        dice = 2 * common / np.maximum(block.sum(1)[:, None] + sizes[None, :], 1)
        best = np.argmax(dice, 1)  # first maximum = the most frequent name among ties
        guesses.extend(name_values[b] if block[r].any() else None for r, b in enumerate(best))
    correct = 0
    if truth is not None:
        correct = sum(_atom_is(atoms[a], item, bits, truth) for a, item in aligned.items())
    return PatternResult(guesses, len(atoms), len(aligned), correct)


def _atom_is(atom: Atom, item: tuple[int, str], bits: np.ndarray, truth: Plaintext) -> bool:
    """Whether most records holding the atom really hold the aligned token."""
    holders = np.flatnonzero(atom.support)
    has = sum(item in set(truth.tokens[r]) for r in holders)
    return has >= 0.8 * len(holders)
