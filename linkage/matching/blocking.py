"""Λ-fold Hamming LSH on CLKs (Karapiperis & Verykios, TKDE 2015): blocking that needs
nothing but the CLKs.

Each of ``bands`` bands samples ``bits`` bit positions; two records are candidates when they
agree on all sampled bits of at least one band. A pair at Hamming distance ``h`` on an
``m``-bit CLK becomes a candidate with probability ``1 - (1 - (1 - h/m)^bits)^bands``, so
close pairs are found with high probability while unrelated pairs (h ≈ 0.4 m) rarely are.
The defaults (30 bands of 20 bits) give 0.991 pair completeness at a reduction ratio of
0.9992 on clkhash CLKs in our analytic model (see docs/matching.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from linkage.matching import kernel


@dataclass(frozen=True)
class LshParameters:
    bands: int = 30
    bits: int = 20
    """At most 64 (a key is one 64-bit word)."""
    max_bucket: int = 2000
    """Buckets holding more records than this on the indexed side are skipped (such keys,
    e.g. from near-empty CLKs, separate nothing); those records rely on their other bands."""
    seed: int = 0


def band_positions(clk_bits: int, params: LshParameters) -> np.ndarray:
    """``(bands, bits)`` bit positions, drawn without replacement within a band."""
    rng = np.random.default_rng(params.seed)
    bits = min(params.bits, clk_bits)
    return np.stack([rng.choice(clk_bits, size=bits, replace=False) for _ in range(params.bands)])


def candidate_pairs(
    a: np.ndarray,
    b: np.ndarray,
    clk_bits: int,
    params: LshParameters = LshParameters(),
    chunk_pairs: int = 4_000_000,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ia, ib)`` int32 candidate pairs, band by band and in chunks of about
    ``chunk_pairs``. A pair that collides in several bands is yielded once, in the first band
    that proposes it, so that scores counted from the pairs count each pair once."""
    if len(a) == 0 or len(b) == 0:
        return
    positions = band_positions(clk_bits, params)
    keys_a = kernel.lsh_keys(a, positions)
    keys_b = kernel.lsh_keys(b, positions)
    skipped: list[np.ndarray] = []
    """Per band before this one, its keys whose bucket was skipped (those proposed nothing)."""
    for band in range(positions.shape[0]):
        # Both sides sorted: the lookups then walk the sorted keys of b in order.
        order_b = np.argsort(keys_b[band]).astype(np.int32)
        order_a = np.argsort(keys_a[band]).astype(np.int32)
        sorted_b, sorted_a = keys_b[band][order_b], keys_a[band][order_a]
        lo = np.searchsorted(sorted_b, sorted_a, side="left")
        counts = np.searchsorted(sorted_b, sorted_a, side="right") - lo
        crowded = counts > params.max_bucket
        skipped.append(np.unique(sorted_a[crowded]))
        counts[crowded] = 0
        for ia, ib in _expand(order_a, lo, counts, order_b, chunk_pairs):
            first = ~_proposed_before(keys_a, keys_b, skipped, band, ia, ib)
            yield ia[first], ib[first]


def _proposed_before(keys_a: np.ndarray, keys_b: np.ndarray, skipped: list[np.ndarray], band: int,
                     ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Pairs that an earlier band already proposed: equal keys there, in a bucket not skipped."""
    seen = np.zeros(len(ia), dtype=bool)
    for earlier in range(band):
        key = keys_a[earlier, ia]
        agree = key == keys_b[earlier, ib]
        if len(skipped[earlier]):
            agree &= ~np.isin(key, skipped[earlier])
        seen |= agree
    return seen


def _expand(
    rows_a: np.ndarray, lo: np.ndarray, counts: np.ndarray, order_b: np.ndarray, chunk_pairs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Turn "row rows_a[k] of a matches sorted b[lo[k] : lo[k] + counts[k]]" into explicit
    pairs, about ``chunk_pairs`` at a time."""
    ends = np.cumsum(counts)
    start = 0
    n = len(counts)
    while start < n:
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + chunk_pairs, side="right")), start + 1)
        c = counts[start:stop]
        total = int(c.sum())
        if total:
            ia = np.repeat(rows_a[start:stop], c)
            offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
            ib = order_b[np.repeat(lo[start:stop], c) + offsets]
            yield ia, ib
        start = stop
