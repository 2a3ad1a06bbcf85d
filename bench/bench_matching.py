"""Matching-engine benchmark: Dice kernel throughput, anonlink side by side, blocking
completeness, and a full 1,000,000 x 100,000 linkage with 95 % exact-token coverage.

Run: ``.venv/bin/python bench/bench_matching.py`` (``BENCH_QUICK=1`` for small sizes).
CLKs are generated cheaply (random bits at clkhash-like density, true matches as perturbed
copies), not with clkhash: the engine only sees bits.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import types
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkage.matching import EncodedSet, kernel, link  # noqa: E402
from linkage.matching.blocking import LshParameters, candidate_pairs  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
KERNEL_N = 5_000 if QUICK else 20_000
PORTABLE_ROWS = 1_000 if QUICK else 4_000
FULL_A, FULL_B = (100_000, 10_000) if QUICK else (1_000_000, 100_000)
BLOCKING_N = 10_000 if QUICK else 100_000
TOKEN_COVERAGE = 0.95
CLK_BYTES = 128


def clks(rng: np.random.Generator, n: int, chunk: int = 100_000) -> np.ndarray:
    """Random 1024-bit CLKs with about 44 % of bits set, like clkhash on five fields."""
    out = np.empty((n, CLK_BYTES), dtype=np.uint8)
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        r = [rng.integers(0, 256, (size, CLK_BYTES), dtype=np.uint8) for _ in range(4)]
        out[start:start + size] = (r[0] & r[1]) | (r[2] & r[3])
    return out


def perturb(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    """Copies with per-record noise: 40 % identical, the rest 1-20 % of bits flipped
    (true-pair Dice 0.78-1.0, like records with typos and worse)."""
    rates = rng.choice([0.0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.2], size=len(source),
                       p=[0.4, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03])
    out = source.copy()
    for rate in np.unique(rates[rates > 0]):
        rows = np.flatnonzero(rates == rate)
        flips = np.packbits(rng.random((len(rows), CLK_BYTES * 8)) < rate, axis=1)
        out[rows] ^= flips
    return out


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


# -- 1. kernel throughput ---------------------------------------------------------------------

def bench_kernel(rng: np.random.Generator) -> dict[str, float]:
    a = clks(rng, KERNEL_N)
    b = perturb(rng, a)
    b[KERNEL_N // 2:] = clks(rng, KERNEL_N - KERNEL_N // 2)
    wa, wb = kernel.as_words(a), kernel.as_words(b)
    print(f"\n1. Dice kernel, {KERNEL_N:,} x {KERNEL_N:,} 1024-bit CLKs, threshold 0.8")
    print(f"   {'path':<9} {'threads':>7} {'G cmp/s':>9} {'pairs':>8}")
    rates = {}
    for name in kernel.available_kernels():
        rows = PORTABLE_ROWS if name == "portable" else KERNEL_N
        for threads in (1, 2):
            best = float("inf")
            for _ in range(1 if name == "portable" else 5):
                start = time.perf_counter()
                ia, _, _ = kernel.threshold_pairs(wa[:rows], wb, 0.8, threads=threads, kernel=name)
                best = min(best, time.perf_counter() - start)
            rates[f"{name}/{threads}"] = rows * KERNEL_N / best / 1e9
            print(f"   {name:<9} {threads:>7} {rates[f'{name}/{threads}']:>9.2f} {len(ia):>8,}"
                  + (f"   ({rows:,} rows)" if rows != KERNEL_N else ""))
    bench_anonlink(a, b, rates)
    return rates


def _import_anonlink():
    """anonlink 0.15.3 imports pkg_resources (gone from current setuptools) only to read its
    version; supply that one function so the library itself can be measured."""
    if "pkg_resources" not in sys.modules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pkg_resources  # noqa: F401
        except ImportError:
            shim = types.ModuleType("pkg_resources")
            shim.get_distribution = lambda name: types.SimpleNamespace(version=metadata.version(name))
            sys.modules["pkg_resources"] = shim
    import anonlink
    from bitarray import bitarray

    return anonlink, bitarray


def anonlink_filters(bitarray, clks: np.ndarray) -> list:
    """CLK rows (uint8) as the big-endian bitarrays anonlink compares."""
    out = []
    for row in clks:
        bits = bitarray(endian="big")
        bits.frombytes(row.tobytes())
        out.append(bits)
    return out


def bench_anonlink(a: np.ndarray, b: np.ndarray, rates: dict[str, float]) -> None:
    try:
        anonlink, bitarray = _import_anonlink()
    except ImportError as exc:
        print(f"   anonlink: not installed ({exc}); no side-by-side comparison")
        return

    fa, fb = anonlink_filters(bitarray, a), anonlink_filters(bitarray, b)
    start = time.perf_counter()
    found = anonlink.candidate_generation.find_candidate_pairs(
        [fa, fb], anonlink.similarities.dice_coefficient, 0.8)
    elapsed = time.perf_counter() - start
    rate = len(a) * len(b) / elapsed / 1e9
    ours = kernel.threshold_pairs(kernel.as_words(a), kernel.as_words(b), 0.8, threads=1)
    same = len(found[0]) == len(ours[0])
    print(f"   anonlink {anonlink.__version__} (1 thread): {rate:.3f} G cmp/s, {len(found[0]):,} pairs "
          f"({'same' if same else 'DIFFERENT'} count as ours)")
    fastest = kernel.available_kernels()[0]
    print(f"   ratio ours/anonlink: {rates[f'{fastest}/1'] / rate:.1f}x on 1 thread, "
          f"{rates[f'{fastest}/2'] / rate:.1f}x on 2 threads")


# -- 2. blocking ------------------------------------------------------------------------------

def bench_blocking(rng: np.random.Generator) -> None:
    a = clks(rng, BLOCKING_N)
    b = perturb(rng, a)
    wa, wb = kernel.as_words(a), kernel.as_words(b)
    truth = kernel.pair_scores(wa, wb, np.arange(BLOCKING_N), np.arange(BLOCKING_N))
    print(f"\n2. Hamming-LSH blocking, {BLOCKING_N:,} x {BLOCKING_N:,} (perturbed copies)")
    print(f"   {'bands':>5} {'bits':>4} {'time s':>7} {'pairs':>12} {'RR':>9} "
          f"{'PC all':>7} {'PC>=.9':>7} {'PC.8-.9':>7} {'PC.7-.8':>7}")
    for bands, bits in ((20, 24), (30, 20)):
        start = time.perf_counter()
        keys = []
        for ia, ib in candidate_pairs(wa, wb, 1024, LshParameters(bands=bands, bits=bits)):
            keys.append(ia.astype(np.int64) * BLOCKING_N + ib)
        distinct = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
        elapsed = time.perf_counter() - start
        found = np.isin(np.arange(BLOCKING_N, dtype=np.int64) * (BLOCKING_N + 1), distinct)
        rr = 1 - len(distinct) / BLOCKING_N**2

        def pc(lo, hi, found=found):
            sel = (truth >= lo) & (truth < hi)
            return found[sel].mean() if sel.any() else float("nan")

        print(f"   {bands:>5} {bits:>4} {elapsed:>7.1f} {len(distinct):>12,} {rr:>9.6f} "
              f"{found.mean():>7.4f} {pc(0.9, 1.1):>7.4f} {pc(0.8, 0.9):>7.4f} {pc(0.7, 0.8):>7.4f}")


# -- 3. full linkage --------------------------------------------------------------------------

def bench_full(rng: np.random.Generator) -> None:
    print(f"\n3. Full linkage {FULL_A:,} x {FULL_B:,}, {TOKEN_COVERAGE:.0%} exact-token coverage per file")
    a = clks(rng, FULL_A)
    persons_b = rng.choice(FULL_A, FULL_B, replace=False)
    b = perturb(rng, a[persons_b])
    token_blob = rng.bytes(32 * FULL_A)
    tokens = [token_blob[32 * i:32 * (i + 1)] for i in range(FULL_A)]
    del token_blob
    tokens_a = [t if c else None for t, c in zip(tokens, rng.random(FULL_A) < TOKEN_COVERAGE)]
    covered_b = rng.random(FULL_B) < TOKEN_COVERAGE
    tokens_b = [tokens[p] if c else None for p, c in zip(persons_b.tolist(), covered_b)]
    del tokens
    sets = [
        EncodedSet("ksz", [f"k{i}" for i in range(FULL_A)], a, tokens_a),
        EncodedSet("vdab", [f"v{i}" for i in range(FULL_B)], b, tokens_b),
    ]
    print(f"   data ready, peak RSS so far {rss_gib():.2f} GiB")
    start = time.perf_counter()
    result = link(sets)
    elapsed = time.perf_counter() - start
    linked_b = result.group_ids[1]
    correct = result.group_ids[0][persons_b] == linked_b
    linked = np.bincount(np.concatenate(result.group_ids))[linked_b] > 1
    pair = result.quality["pairs"][0]
    print(f"   time {elapsed:.1f} s (target <= 60 s); peak RSS {rss_gib():.2f} GiB (target <= 4 GB; "
          "whole process, data included)")
    print(f"   threshold {result.threshold} ({result.quality['threshold']['reason']})")
    print(f"   linked {pair['linked']:,}: {pair['exact']:,} exact token + {pair['similarity']:,} similarity; "
          f"{pair['comparison']['scored']:,} comparisons ({pair['comparison']['method']})")
    print(f"   precision {correct[linked].mean():.4f}, recall {correct.mean():.4f} (all of vdab is in ksz)")
    print(f"   seconds per stage: {result.quality['seconds']}")


def main() -> None:
    rng = np.random.default_rng(2026)
    print(f"bench_matching ({'quick' if QUICK else 'full'} sizes); kernels on this CPU: "
          f"{', '.join(kernel.available_kernels())}; threads {kernel.default_threads()}")
    bench_kernel(rng)
    bench_blocking(rng)
    bench_full(rng)


if __name__ == "__main__":
    main()
