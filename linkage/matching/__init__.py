"""The matching engine, used by ``linkage match`` and the broker.

Exact keyed-token matches first, then Dice similarity of CLKs (an AVX-512 kernel with a
portable fallback, Hamming-LSH blocking at scale), a threshold chosen from the observed score
distribution, and greedy clustering with at most one record per source per group.
"""

from linkage.matching.engine import link
from linkage.matching.errors import MatchingError
from linkage.matching.model import EncodedSet, LinkResult, encoded_set

__all__ = ["EncodedSet", "LinkResult", "MatchingError", "encoded_set", "link"]
