"""Candidate pairs between two sets of CLKs: each record's best pairs above a floor.

Small problems are compared exhaustively with the Dice kernel (exact: no pair is missed);
above :func:`brute_force_limit` comparisons, Hamming-LSH blocking proposes the pairs and only
those are scored. The floor sits below any sensible threshold so that the score distribution
around the threshold can be observed.

**Bounded.** Of the pairs scoring at least the floor, each record of the smaller set keeps
its ``BEST_PER_RECORD`` best and each record of the larger set its ``BEST_PER_RECORD_OF_LARGER``
best (:mod:`.best_k`: a pair stays when it is among the best of either of its records), pruned
as the pairs stream in, so that memory grows with the records, not with how alike they are: the
larger set is compared in slices of rows, each sized from the pairs the slices before it found.
All pairs above the floor are still counted in the score histogram the match model is fitted on.
A pair outside the best ``k`` of both its records could only be linked if all ``k`` better
partners of each record went to someone else.

**Partitioned.** Exhaustive comparison is a grid: the rows of the larger set against all of
the smaller one. Given a :class:`concurrent.futures.Executor` (a Dask cluster's, see
``linkage match --dask``), the rows are cut into partitions of about
``PARTITION_COMPARISONS`` comparisons, each compared on its own (:func:`compare_rows`: only
its rows, the smaller set and their register numbers travel), and the partitions' best pairs
are merged (:meth:`.RowSlices.merge`). The result is the one a single process finds, pair for
pair: each row's best are final within its partition, and the smaller set's best over all
partitions are the best of the partitions' best.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from linkage.matching import blocking, kernel, match_model
from linkage.matching.best_k import BestK, RowSlices, within_best

BRUTE_FORCE_LIMIT = 40_000_000_000
"""Comparisons per pair of sets compared exhaustively before LSH blocking takes over, for
the kernels without AVX-512 (about 10 s of ``popcnt`` on two cores)."""
BRUTE_FORCE_LIMIT_AVX512 = 400_000_000_000
"""The same with the AVX-512 kernel, about 3.7·10⁹ comparisons a second on two cores: some
100 s per pair, so that all of Flanders is still compared exhaustively (LSH misses the
borderline true pairs, docs/matching.md)."""
BEST_PER_RECORD = 10
"""``k``: candidate pairs kept per record of the set with fewer records (more when scores tie)."""
BEST_PER_RECORD_OF_LARGER = 2
"""The same for the records of the larger set: enough for its best (mutual-best pairs) and a
second choice. Every pair is also among the ``BEST_PER_RECORD`` of its record in the smaller
set or not kept; 10 per record of the population register would have kept some 55 million
pairs for all of Flanders against 60,000 open education records."""
SLICE_PAIRS = 8_000_000
"""Pairs above the floor one kernel call may return (12 bytes each); slices of rows are sized
to find about half of it."""
FIRST_SLICE_COMPARISONS = 200_000_000
SETTLED_SCORE = 0.9
"""Beyond the exhaustive budget, a record of the smaller set whose best LSH pair scores at
least this keeps its LSH pairs; LSH finds 0.9998 of the true pairs above it (docs/matching.md),
so every other record is compared with all of the larger set."""
PARTITION_COMPARISONS = 20_000_000_000
"""Comparisons per partition of the grid when an executor is given: some 5 s of the AVX-512
kernel on two cores, and 60 partitions for Belgium's register against its open education
records."""


METHODS = ("lsh", "lsh+all pairs", "all pairs")
"""How candidates were found, from the one that may miss most pairs."""


@dataclass
class Candidates:
    ia: np.ndarray
    ib: np.ndarray
    scores: np.ndarray
    floor: float
    method: str
    """One of :data:`METHODS`."""
    scored: int
    """Pairs whose score was computed."""
    histogram: np.ndarray
    """Pairs scoring at least the floor per score bin of the match model, kept or not."""
    above_floor: int
    """Pairs scoring at least the floor (more than are kept)."""
    vetoed: int = 0
    """Pairs above the floor the caller ruled out (neither kept nor counted)."""


@dataclass(frozen=True)
class RegisterVeto:
    """Pairs ``(ia, ib)`` whose records' groups hold different national-register numbers
    (``left``/``right``: per record, the number's id in its group, or -1) may not link."""

    left: np.ndarray
    right: np.ndarray

    def __call__(self, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        ra, rb = self.left[ia], self.right[ib]
        return (ra >= 0) & (rb >= 0) & (ra != rb)

    def swapped(self) -> "RegisterVeto":
        return RegisterVeto(self.right, self.left)

    def select(self, left=slice(None), right=slice(None)) -> "RegisterVeto":
        """The veto for a subset of the records of either side (an index or a slice)."""
        return RegisterVeto(self.left[left], self.right[right])


def brute_force_limit() -> int:
    """Comparisons ``auto`` makes exhaustively in one process, for the kernel it uses."""
    return BRUTE_FORCE_LIMIT_AVX512 if kernel.selected_kernel() == "avx512" else BRUTE_FORCE_LIMIT


def find(
    a: np.ndarray,
    b: np.ndarray,
    clk_bits: int,
    floor: float,
    method: str = "auto",
    lsh: blocking.LshParameters = blocking.LshParameters(),
    best: int = BEST_PER_RECORD,
    veto: RegisterVeto | None = None,
    best_of_larger: int = BEST_PER_RECORD_OF_LARGER,
    executor: Executor | None = None,
    exhaustive_limit: int | None = None,
) -> Candidates:
    """Each record's ``best`` pairs of rows of ``a`` and ``b`` (uint64 words) scoring at least
    ``floor``, leaving out the pairs ``veto`` rules out before they count.

    ``method``: ``"auto"`` (exhaustive up to ``exhaustive_limit`` comparisons, by default
    :func:`brute_force_limit`, else LSH), ``"none"`` (always exhaustive) or ``"lsh"``.
    ``executor``: where the partitions of an exhaustive comparison run (default: here).
    """
    limit = brute_force_limit() if exhaustive_limit is None else exhaustive_limit
    exhaustive = method == "none" or (method == "auto" and len(a) * len(b) <= limit)
    ks = (best, best_of_larger) if len(a) <= len(b) else (best_of_larger, best)
    if exhaustive:
        (ia, ib, scores), histogram, offered, vetoed = _all_pairs(a, b, floor, ks, veto, executor)
        return Candidates(ia, ib, scores, floor, "all pairs", len(a) * len(b), histogram, offered, vetoed)
    if method == "lsh":
        keep = _Vetoed(BestK(*ks), veto)
        scored = _lsh(a, b, clk_bits, floor, lsh, keep)
        ia, ib, scores = keep.collector.result()
        return Candidates(ia, ib, scores, floor, "lsh", scored, keep.collector.histogram, keep.collector.offered,
                          keep.vetoed)
    return _settled_by_lsh(a, b, clk_bits, floor, lsh, ks, veto, executor)


def _settled_by_lsh(a: np.ndarray, b: np.ndarray, clk_bits: int, floor: float, params: blocking.LshParameters,
                    ks: tuple[int, int], veto: RegisterVeto | None, executor: Executor | None) -> Candidates:
    """Blocking that keeps recall: the records of the smaller set for which LSH finds a pair
    scoring at least ``SETTLED_SCORE`` keep their LSH pairs; every other one (its partner
    borderline, or none at all) is compared with all of the larger set.

    One LSH pass (:class:`_Settling`) keeps every record's best pairs and counts, per record of
    the smaller set, its pairs above the floor by score bin, so that the histogram and counts of
    the settled records can be taken once it is known which they are. Dropping the other records'
    LSH pairs afterwards is exact: their pairs with the larger set come back from the exhaustive
    part, so any larger-set record's best are the same over the union."""
    small_is_a = len(a) <= len(b)
    lsh = _Settling(ks, len(a) if small_is_a else len(b), small_is_a, floor, veto)
    scored = _lsh(a, b, clk_bits, floor, params, lsh)
    settled = lsh.best >= SETTLED_SCORE
    i, j, s = lsh.collector.result()
    by_lsh = settled[i if small_is_a else j]
    histogram = np.zeros(match_model.BINS, dtype=np.int64)
    histogram[lsh.first:] = lsh.counts[settled].sum(axis=0, dtype=np.int64)
    rest = np.flatnonzero(~settled)
    sub_a, sub_b = (a[rest], b) if small_is_a else (a, b[rest])
    sub_veto = None if veto is None else (veto.select(left=rest) if small_is_a else veto.select(right=rest))
    (ri, rj, rs), rest_histogram, rest_offered, rest_vetoed = _all_pairs(sub_a, sub_b, floor, ks, sub_veto, executor)
    ri, rj = (rest[ri], rj) if small_is_a else (ri, rest[rj])
    i, j, s = np.r_[i[by_lsh], ri], np.r_[j[by_lsh], rj], np.r_[s[by_lsh], rs]
    keep_pair = within_best(i, s, ks[0]) | within_best(j, s, ks[1])
    return Candidates(i[keep_pair].astype(np.int32), j[keep_pair].astype(np.int32), s[keep_pair], floor,
                      "lsh+all pairs", scored + len(sub_a) * len(sub_b), histogram + rest_histogram,
                      int(histogram.sum()) + rest_offered, int(lsh.vetoed_by[settled].sum()) + rest_vetoed)


class _Settling:
    """The LSH pairs above the floor, kept by :class:`BestK` after the veto, and per record of
    the smaller set: its best score, its pairs per score bin and its pairs vetoed."""

    def __init__(self, ks: tuple[int, int], n_small: int, small_is_a: bool, floor: float,
                 veto: RegisterVeto | None):
        self.collector, self.small_is_a, self.veto = BestK(*ks), small_is_a, veto
        self.first = int(match_model.bin_of(np.array([floor]))[0])
        self.counts = np.zeros((n_small, match_model.BINS - self.first), dtype=np.uint32)
        self.vetoed_by = np.zeros(n_small, dtype=np.int64)
        self.best = np.zeros(n_small, dtype=np.float32)

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        small = i if self.small_is_a else j
        if self.veto is not None:
            out = self.veto(i, j)
            np.add.at(self.vetoed_by, small[out], 1)
            i, j, scores, small = i[~out], j[~out], scores[~out], small[~out]
        np.maximum.at(self.best, small, scores)
        np.add.at(self.counts, (small, match_model.bin_of(scores) - self.first), 1)
        self.collector.add(i, j, scores)


class _Vetoed:
    """Passes on to ``collector`` the pairs ``veto`` does not rule out, counting the others."""

    def __init__(self, collector: BestK | RowSlices, veto: RegisterVeto | None):
        self.collector, self.veto, self.vetoed = collector, veto, 0

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        if self.veto is not None and len(scores):
            out = self.veto(i, j)
            self.vetoed += int(out.sum())
            i, j, scores = i[~out], j[~out], scores[~out]
        self.collector.add(i, j, scores)


def _all_pairs(a: np.ndarray, b: np.ndarray, floor: float, ks: tuple[int, int], veto: RegisterVeto | None,
               executor: Executor | None):
    """Every pair, the larger set's rows in partitions against all of the smaller one: the
    kept pairs ``(ia, ib, scores)``, the histogram, the pairs above the floor and those vetoed."""
    slicing_a = len(a) >= len(b)
    rows, other = (a, b) if slicing_a else (b, a)
    k_rows, k_other = ks if slicing_a else ks[::-1]
    if veto is not None and not slicing_a:
        veto = veto.swapped()
    bounds = _partitions(len(rows), len(other), executor)
    jobs = [(rows[lo:hi], other, lo, floor, k_rows, k_other, None if veto is None else veto.select(left=slice(lo, hi)))
            for lo, hi in bounds]
    done = executor.map(compare_rows, *zip(*jobs)) if executor is not None and len(jobs) > 1 \
        else (compare_rows(*job) for job in jobs)
    merged, vetoed = RowSlices(k_rows, k_other, len(rows), len(other), complete=0), 0
    for part, part_vetoed in done:
        merged.merge(part)
        vetoed += part_vetoed
    i, j, s = merged.result()
    return ((i, j, s) if slicing_a else (j, i, s)), merged.histogram, merged.offered, vetoed


def _partitions(rows: int, other: int, executor: Executor | None) -> list[tuple[int, int]]:
    """Row ranges: one without an executor, else of about ``PARTITION_COMPARISONS`` each."""
    if rows == 0 or other == 0:
        return []
    count = 1 if executor is None else max(1, min(rows, -(-rows * other // PARTITION_COMPARISONS)))
    edges = np.linspace(0, rows, count + 1).astype(np.int64)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]


def compare_rows(rows: np.ndarray, other: np.ndarray, first_row: int, floor: float, k_rows: int,
                 k_other: int, veto: RegisterVeto | None) -> tuple[RowSlices, int]:
    """One partition of the grid: ``rows`` (the larger set's rows from ``first_row`` on)
    against all of ``other``, in slices sized from the pairs the slices before found. The
    pairs it keeps carry the larger set's row numbers; also returned: the pairs vetoed."""
    # arrays received from another process may sit at any offset of a message buffer
    rows, other = (np.require(x, requirements=("C", "A")) for x in (rows, other))
    collector = RowSlices(k_rows, k_other, len(rows), len(other), complete=0)
    keep = _Vetoed(collector, veto)
    step = max(1, FIRST_SLICE_COMPARISONS // max(len(other), 1))
    start = 0
    while start < len(rows):
        stop = min(start + step, len(rows))
        try:
            i, j, s = kernel.threshold_pairs(rows[start:stop], other, floor, max_pairs=SLICE_PAIRS)
        except kernel.TooManyPairs:
            # only a slice far denser than those before it; it is compared again in quarters
            step = max(1, (stop - start) // 4)
            continue
        keep.add(i + start, j, s)
        per_row = max(len(s), 1) / (stop - start)
        step = max(1, int(SLICE_PAIRS / 2 / per_row))
        start = stop
    collector.shift_rows(first_row)
    return collector, keep.vetoed


def _lsh(a, b, clk_bits, floor, params, keep: _Vetoed | _Settling) -> int:
    """Blocked search, the smaller set indexed and the larger one probing: the pairs scoring at
    least ``floor`` go to ``keep`` as pairs of ``a`` and ``b``; returns the pairs scored."""
    flip = len(a) < len(b)
    large, small = (b, a) if flip else (a, b)
    scored = 0
    for il, is_ in blocking.candidate_pairs(large, small, clk_bits, params):
        scores = kernel.pair_scores(large, small, il, is_)
        scored += len(il)
        above = scores >= floor
        if flip:
            keep.add(is_[above], il[above], scores[above])
        else:
            keep.add(il[above], is_[above], scores[above])
    return scored
