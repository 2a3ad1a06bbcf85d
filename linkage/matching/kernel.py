"""Thin, typed wrapper around the compiled Dice kernels (``_dice.c``).

CLKs are handled as ``(n, words)`` uint64 arrays. The code path is chosen at run time:
``avx512`` (AVX-512 VPOPCNTDQ), ``popcnt`` (scalar POPCNT) or ``portable`` (any CPU). All
paths return identical pairs and scores. Force one with the environment variable
``LINKAGE_DICE_KERNEL`` (``auto``, ``avx512``, ``popcnt``, ``portable``) or the ``kernel``
argument; set the number of threads with ``LINKAGE_THREADS`` (default: the CPUs this
process may use).
"""

from __future__ import annotations

import os

import numpy as np

from linkage.matching import _dice
from linkage.matching.errors import MatchingError

KERNELS = ("avx512", "popcnt", "portable")


class TooManyPairs(MatchingError):
    """More candidate pairs reach the threshold than the caller allowed."""


def available_kernels() -> list[str]:
    """Kernels this CPU can run, fastest first."""
    return list(_dice.available_kernels())


def selected_kernel(kernel: str | None = None) -> str:
    """The kernel a call would use: the argument, else ``LINKAGE_DICE_KERNEL``, else the fastest."""
    name = kernel or os.environ.get("LINKAGE_DICE_KERNEL", "auto")
    if name == "auto":
        return available_kernels()[0]
    if name not in KERNELS:
        raise MatchingError(
            f"unknown Dice kernel {name!r} (LINKAGE_DICE_KERNEL): use auto, {', '.join(KERNELS)}"
        )
    if name not in available_kernels():
        raise MatchingError(f"this CPU cannot run the {name} Dice kernel; use auto")
    return name


def default_threads() -> int:
    configured = os.environ.get("LINKAGE_THREADS")
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise MatchingError(f"LINKAGE_THREADS must be a whole number, not {configured!r}") from None
    return max(1, len(os.sched_getaffinity(0)))


def as_words(clks: np.ndarray) -> np.ndarray:
    """CLK bytes ``(n, nbytes)`` uint8 as ``(n, words)`` uint64, zero-padded to whole words."""
    n, nbytes = clks.shape
    words = max(1, -(-nbytes // 8))
    if nbytes == words * 8 and clks.flags.c_contiguous and clks.ctypes.data % 8 == 0:
        return clks.view(np.uint64).reshape(n, words)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :nbytes] = clks
    return padded.view(np.uint64).reshape(n, words)


def threshold_pairs(
    a: np.ndarray,
    b: np.ndarray,
    threshold: float,
    *,
    max_pairs: int = 2**62,
    threads: int | None = None,
    kernel: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``(i, j)`` with ``Dice(a[i], b[j]) >= threshold``: int32 ``i``, ``j`` and
    float32 scores, in no particular order. Raises :class:`TooManyPairs` past ``max_pairs``."""
    _check_pair_of_arrays(a, b)
    if len(a) == 0 or len(b) == 0:
        return empty_pairs()
    try:
        ia, ib, scores = _dice.threshold_pairs(
            a, b, a.shape[1], float(threshold), threads or default_threads(),
            selected_kernel(kernel), int(max_pairs),
        )
    except OverflowError:
        raise TooManyPairs(
            f"more than {max_pairs:,} record pairs score {threshold:.3f} or more"
        ) from None
    return (
        np.frombuffer(ia, dtype=np.int32),
        np.frombuffer(ib, dtype=np.int32),
        np.frombuffer(scores, dtype=np.float32),
    )


def pair_scores(
    a: np.ndarray,
    b: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    *,
    threads: int | None = None,
    kernel: str | None = None,
) -> np.ndarray:
    """Dice scores (float32) of the pairs ``(a[ia[p]], b[ib[p]])``."""
    _check_pair_of_arrays(a, b)
    ia = np.ascontiguousarray(ia, dtype=np.int32)
    ib = np.ascontiguousarray(ib, dtype=np.int32)
    if ia.shape != ib.shape:
        raise ValueError("ia and ib differ in length")
    if len(ia) == 0:
        return np.zeros(0, dtype=np.float32)
    raw = _dice.pair_scores(a, b, a.shape[1], ia, ib, threads or default_threads(), selected_kernel(kernel))
    return np.frombuffer(raw, dtype=np.float32)


def lsh_keys(a: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Band keys ``(bands, n)`` uint64: the CLK bits at ``positions[band]`` packed into an integer.

    Bit ``p`` is bit ``p % 64`` of word ``p // 64``.
    """
    _check_words(a, "a")
    positions = np.ascontiguousarray(positions, dtype=np.int32)
    bands, bits = positions.shape
    raw = _dice.lsh_keys(a, a.shape[1], positions, bands, bits)
    return np.frombuffer(raw, dtype=np.uint64).reshape(bands, len(a))


def _check_words(array: np.ndarray, name: str) -> None:
    if array.dtype != np.uint64 or array.ndim != 2 or not array.flags.c_contiguous:
        raise ValueError(f"{name} must be a C-contiguous (n, words) uint64 array (see as_words)")


def _check_pair_of_arrays(a: np.ndarray, b: np.ndarray) -> None:
    _check_words(a, "a")
    _check_words(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"CLK widths differ: {a.shape[1]} and {b.shape[1]} words")


def empty_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
