"""Synthetic CLKs with known truth for the matching tests (cheap: no clkhash here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching import EncodedSet


def random_clks(rng: np.random.Generator, n: int, bits: int = 1024, fill: float = 0.35) -> np.ndarray:
    return np.packbits(rng.random((n, bits)) < fill, axis=1)


def perturb(rng: np.random.Generator, clks: np.ndarray, flip: float) -> np.ndarray:
    """Flip each bit with probability ``flip`` (a stand-in for typos in the identifiers)."""
    bits = clks.shape[1] * 8
    return clks ^ np.packbits(rng.random((len(clks), bits)) < flip, axis=1)


@dataclass
class Population:
    sets: list[EncodedSet]
    persons: list[np.ndarray]
    """Per set, the person behind each record."""

    def true_pairs(self, p: int, q: int) -> set[tuple[int, int]]:
        where = {person: i for i, person in enumerate(self.persons[q])}
        return {(i, where[person]) for i, person in enumerate(self.persons[p]) if person in where}

    def linked_pairs(self, group_ids: list[np.ndarray], p: int, q: int) -> set[tuple[int, int]]:
        where = {g: j for j, g in enumerate(group_ids[q].tolist())}
        return {(i, where[g]) for i, g in enumerate(group_ids[p].tolist()) if g in where}


def population(
    seed: int,
    persons: int,
    specs: dict[str, tuple[float, float, float]],
    bits: int = 1024,
) -> Population:
    """Sets drawn from one population: ``specs[name] = (share of persons, bit-flip rate,
    exact-token coverage)``. Record ids are ``name-<row>``."""
    rng = np.random.default_rng(seed)
    truth = random_clks(rng, persons, bits)
    tokens = [rng.bytes(32) for _ in range(persons)]
    sets, members = [], []
    for name, (share, flip, coverage) in specs.items():
        chosen = np.sort(rng.choice(persons, size=int(round(share * persons)), replace=False))
        rng.shuffle(chosen)
        covered = rng.random(len(chosen)) < coverage
        sets.append(EncodedSet(
            source=name,
            record_ids=[f"{name}-{i}" for i in range(len(chosen))],
            clks=perturb(rng, truth[chosen], flip) if flip else truth[chosen].copy(),
            exact_tokens=[tokens[p] if c else None for p, c in zip(chosen, covered)],
        ))
        members.append(chosen)
    return Population(sets, members)


def dice_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain numpy Dice matrix of two uint8 CLK arrays (0 where both CLKs are empty)."""
    pa = np.unpackbits(a, axis=1).sum(1).astype(np.int64)
    pb = np.unpackbits(b, axis=1).sum(1).astype(np.int64)
    common = np.unpackbits(a[:, None, :] & b[None, :, :], axis=2).sum(2).astype(np.int64)
    total = pa[:, None] + pb[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * common / np.maximum(total, 1), 0.0), common, total
