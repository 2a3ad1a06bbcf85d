"""Thin, typed wrapper around the compiled Dice kernels (``_dice.c``), with a numpy fallback.

CLKs are handled as ``(n, words)`` uint64 arrays. The code path is chosen at run time:
``avx512`` (AVX-512 VPOPCNTDQ), ``popcnt`` (scalar POPCNT), ``portable`` (any CPU) or
``numpy`` (:mod:`.numpy_kernel`, no compiled code). All paths return identical pairs and
scores. When the C extension is not built (an unbuilt checkout), the numpy path is used and a
``RuntimeWarning`` says so once. Force a path with the environment variable
``LINKAGE_DICE_KERNEL`` (``auto``, ``avx512``, ``popcnt``, ``portable``, ``numpy``) or the
``kernel`` argument; set the number of threads of the compiled paths with ``LINKAGE_THREADS``
(default: the CPUs this process may use).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from linkage.matching import numpy_kernel
from linkage.matching.errors import MatchingError

try:
    from linkage.matching import _dice
except ImportError:  # an unbuilt checkout: fall back to numpy, loudly
    _dice = None
    warnings.warn(
        "the compiled Dice kernel (linkage/matching/_dice.c) is not built; linking uses the "
        "pure-numpy kernel, 20-50x slower. Build it with 'make setup' or 'pip install -e .'",
        RuntimeWarning, stacklevel=2,
    )

KERNELS = ("avx512", "popcnt", "portable", "numpy")


class TooManyPairs(MatchingError):
    """More candidate pairs reach the threshold than the caller allowed."""


def available_kernels() -> list[str]:
    """Kernels this CPU can run, fastest first (``numpy`` always, last)."""
    compiled = list(_dice.available_kernels()) if _dice is not None else []
    return [*compiled, "numpy"]


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
    name = selected_kernel(kernel)
    try:
        if name == "numpy":
            return numpy_kernel.threshold_pairs(a, b, float(threshold), int(max_pairs))
        ia, ib, scores = _dice.threshold_pairs(
            a, b, a.shape[1], float(threshold), threads or default_threads(), name, int(max_pairs),
        )
    except (OverflowError, numpy_kernel.PairLimit):
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
    name = selected_kernel(kernel)
    if name == "numpy":
        return numpy_kernel.pair_scores(a, b, ia, ib)
    raw = _dice.pair_scores(a, b, a.shape[1], ia, ib, threads or default_threads(), name)
    return np.frombuffer(raw, dtype=np.float32)


def lsh_keys(a: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Band keys ``(bands, n)`` uint64: the CLK bits at ``positions[band]`` packed into an integer.

    Bit ``p`` is bit ``p % 64`` of word ``p // 64``.
    """
    _check_words(a, "a")
    positions = np.ascontiguousarray(positions, dtype=np.int32)
    bands, bits = positions.shape
    if _dice is None:
        return numpy_kernel.lsh_keys(a, positions)
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
