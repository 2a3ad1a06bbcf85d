"""The compiled Dice kernels against a plain numpy reference, on every CPU path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.matching import MatchingError, kernel

from .helpers import dice_reference, random_clks

KERNELS = kernel.available_kernels()


def _words(clks: np.ndarray) -> np.ndarray:
    return kernel.as_words(clks)


def _reference_pairs(a, b, threshold):
    _, common, total = dice_reference(a, b)
    hit = (total > 0) & (2.0 * common >= threshold * total)
    ia, ib = np.nonzero(hit)
    return {(int(i), int(j)) for i, j in zip(ia, ib)}, common, total


@st.composite
def clk_arrays(draw):
    nbytes = draw(st.sampled_from([8, 24, 64, 128, 136]))
    n = draw(st.integers(0, 40))
    m = draw(st.integers(0, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    fill = draw(st.floats(0.05, 0.6))
    rng = np.random.default_rng(seed)
    a = random_clks(rng, n, nbytes * 8, fill)
    # b: some copies of a with few flipped bits (close pairs), some unrelated, one empty
    b = random_clks(rng, m, nbytes * 8, fill)
    for j in range(min(n, m) // 2):
        b[j] = a[j] ^ np.packbits(rng.random(nbytes * 8) < 0.02)
    if m:
        b[-1] = 0
    threshold = draw(st.sampled_from([0.3, 0.5, 0.7, 0.8, 0.9, 1.0]) | st.floats(0.01, 1.0))
    return a, b, threshold


@pytest.mark.parametrize("name", KERNELS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=clk_arrays())
def test_threshold_pairs_match_numpy_reference(name, data):
    a, b, threshold = data
    expected, common, total = _reference_pairs(a, b, threshold)
    for threads in (1, 2):
        ia, ib, scores = kernel.threshold_pairs(_words(a), _words(b), threshold, threads=threads, kernel=name)
        assert {(int(i), int(j)) for i, j in zip(ia, ib)} == expected
        want = (2.0 * common[ia, ib] / total[ia, ib]).astype(np.float32)
        np.testing.assert_array_equal(scores, want)


@settings(max_examples=25, deadline=None)
@given(data=clk_arrays())
def test_all_paths_return_identical_results(data):
    a, b, threshold = data
    results = []
    for name in KERNELS:
        ia, ib, scores = kernel.threshold_pairs(_words(a), _words(b), threshold, kernel=name)
        order = np.lexsort((ib, ia))
        results.append((ia[order].tolist(), ib[order].tolist(), scores[order].tolist()))
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize("name", KERNELS)
def test_pair_scores_match_reference(name):
    rng = np.random.default_rng(7)
    a, b = random_clks(rng, 50, 1024), random_clks(rng, 70, 1024)
    b[3] = 0
    a[5] = 0
    dice, _, _ = dice_reference(a, b)
    ia = rng.integers(0, 50, 70_000).astype(np.int32)  # enough pairs to use two threads
    ib = rng.integers(0, 70, 70_000).astype(np.int32)
    scores = kernel.pair_scores(_words(a), _words(b), ia, ib, kernel=name)
    np.testing.assert_array_equal(scores, dice[ia, ib].astype(np.float32))


def test_pair_scores_reject_indices_outside_the_sets():
    rng = np.random.default_rng(1)
    a = _words(random_clks(rng, 4, 128))
    with pytest.raises(IndexError):
        kernel.pair_scores(a, a, np.array([0, 4]), np.array([0, 0]))


def test_large_blocks_and_both_thread_counts_agree():
    """Sizes over one task (256 rows, 8192 columns) with close pairs scattered through."""
    rng = np.random.default_rng(3)
    a = random_clks(rng, 700, 1024)
    b = random_clks(rng, 9000, 1024)
    rows = rng.choice(9000, 700, replace=False)
    b[rows] = a ^ np.packbits(rng.random((700, 1024)) < 0.03, axis=1)
    one = kernel.threshold_pairs(_words(a), _words(b), 0.8, threads=1)
    two = kernel.threshold_pairs(_words(a), _words(b), 0.8, threads=2)
    swapped = kernel.threshold_pairs(_words(b), _words(a), 0.8, threads=2)
    as_set = lambda r: set(zip(r[0].tolist(), r[1].tolist()))  # noqa: E731
    assert as_set(one) == as_set(two) == {(j, i) for i, j in as_set(swapped)}
    assert as_set(one) >= {(i, int(r)) for i, r in enumerate(rows)}


def test_too_many_pairs_is_a_clear_error():
    rng = np.random.default_rng(2)
    a = _words(random_clks(rng, 100, 512, 0.5))
    with pytest.raises(kernel.TooManyPairs, match="more than 10"):
        kernel.threshold_pairs(a, a, 0.05, max_pairs=10)


def test_forcing_the_portable_path_by_environment(monkeypatch):
    monkeypatch.setenv("LINKAGE_DICE_KERNEL", "portable")
    assert kernel.selected_kernel() == "portable"
    monkeypatch.setenv("LINKAGE_DICE_KERNEL", "sse9")
    with pytest.raises(MatchingError, match="unknown Dice kernel"):
        kernel.selected_kernel()


def test_lsh_keys_pack_the_sampled_bits():
    rng = np.random.default_rng(4)
    clks = random_clks(rng, 30, 1024)
    words = _words(clks)
    positions = np.stack([rng.choice(1024, 20, replace=False) for _ in range(5)])
    keys = kernel.lsh_keys(words, positions)
    # bit p of the CLK is bit p % 64 of little-endian word p // 64
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")
    expected = np.zeros((5, 30), dtype=np.uint64)
    for band in range(5):
        for k, p in enumerate(positions[band]):
            expected[band] |= bits[:, p].astype(np.uint64) << np.uint64(k)
    np.testing.assert_array_equal(keys, expected)
