"""The records of all input sets in one global numbering, with their CLKs as 64-bit words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching import kernel


@dataclass
class Records:
    """Set ``k`` holds global ids ``offsets[k] .. offsets[k+1]-1``."""

    words: list[np.ndarray]
    """Per set, ``(n_k, words)`` uint64 CLKs."""
    offsets: np.ndarray
    clk_bits: int

    @classmethod
    def from_clks(cls, clks: list[np.ndarray]) -> "Records":
        sizes = [len(c) for c in clks]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls([kernel.as_words(c) for c in clks], offsets, clks[0].shape[1] * 8 if clks else 0)

    @property
    def total(self) -> int:
        return int(self.offsets[-1])

    @property
    def set_count(self) -> int:
        return len(self.words)

    def set_of(self, gids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, gids, side="right") - 1

    def scores(self, ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
        """Dice scores of pairs of global ids (any sets), float32."""
        ga = np.asarray(ga, dtype=np.int64)
        gb = np.asarray(gb, dtype=np.int64)
        out = np.zeros(len(ga), dtype=np.float32)
        if len(ga) == 0:
            return out
        sa, sb = self.set_of(ga), self.set_of(gb)
        for p in np.unique(sa):
            for q in np.unique(sb[sa == p]):
                sel = np.flatnonzero((sa == p) & (sb == q))
                out[sel] = kernel.pair_scores(
                    self.words[p], self.words[q], ga[sel] - self.offsets[p], gb[sel] - self.offsets[q]
                )
        return out
