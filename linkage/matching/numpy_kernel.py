"""The Dice kernels in plain numpy: the reference, and the fallback when ``_dice.c`` is not built.

Same contract as the compiled kernels (see :mod:`.kernel`): CLKs as ``(n, words)`` uint64,
the same inclusion test ``2·|a∧b| ≥ t·(|a|+|b|)`` in double arithmetic, the same float32
scores, so every path selects identical pairs. It is some 20-50× slower than the AVX-512
path; :mod:`.kernel` warns when it has to use it.
"""

from __future__ import annotations

import numpy as np

BLOCK_ELEMENTS = 4_000_000
"""uint64 words held in one ``a-rows × b-rows × words`` block (32 MB)."""

_BYTE_COUNTS = np.array([bin(v).count("1") for v in range(256)], dtype=np.uint8)


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a ``(..., words)`` uint64 array, as int64."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)
    as_bytes = np.ascontiguousarray(words).view(np.uint8)
    return _BYTE_COUNTS[as_bytes].sum(axis=-1, dtype=np.int64)


def _scores(common: np.ndarray, total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * common / np.maximum(total, 1), 0.0).astype(np.float32)


class PairLimit(Exception):
    """More than ``max_pairs`` pairs qualify (the caller turns it into ``TooManyPairs``)."""


def threshold_pairs(a: np.ndarray, b: np.ndarray, threshold: float,
                    max_pairs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs with ``Dice(a[i], b[j]) >= threshold``: int32 ``i``, ``j``, float32 scores."""
    count_a, count_b = popcount(a), popcount(b)
    words = max(1, a.shape[1])
    rows = max(1, min(len(a), BLOCK_ELEMENTS // max(1, len(b) * words)))
    cols = len(b) if rows > 1 else max(1, BLOCK_ELEMENTS // words)
    found_i, found_j, found_s, kept = [], [], [], 0
    for i0 in range(0, len(a), rows):
        block_a = a[i0:i0 + rows]
        for j0 in range(0, len(b), cols):
            block_b = b[j0:j0 + cols]
            common = popcount(block_a[:, None, :] & block_b[None, :, :])
            total = count_a[i0:i0 + rows, None] + count_b[None, j0:j0 + cols]
            hit = (2.0 * common >= threshold * total) & (total > 0)
            ii, jj = np.nonzero(hit)
            kept += len(ii)
            if kept > max_pairs:
                raise PairLimit()
            found_i.append((ii + i0).astype(np.int32))
            found_j.append((jj + j0).astype(np.int32))
            found_s.append(_scores(common[ii, jj], total[ii, jj]))
    if not found_i:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s)


def pair_scores(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Dice scores (float32) of the pairs ``(a[ia[p]], b[ib[p]])``."""
    out = np.empty(len(ia), dtype=np.float32)
    step = max(1, BLOCK_ELEMENTS // max(1, a.shape[1]))
    for start in range(0, len(ia), step):
        x, y = a[ia[start:start + step]], b[ib[start:start + step]]
        out[start:start + step] = _scores(popcount(x & y), popcount(x) + popcount(y))
    return out


def lsh_keys(a: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Band keys ``(bands, n)`` uint64: bit ``k`` of a key is CLK bit ``positions[band, k]``."""
    bands, bits = positions.shape
    keys = np.zeros((bands, len(a)), dtype=np.uint64)
    for k in range(bits):
        word, shift = positions[:, k] // 64, (positions[:, k] % 64).astype(np.uint64)
        bit = (a[:, word].T >> shift[:, None]) & np.uint64(1)
        keys |= bit << np.uint64(k)
    return keys
