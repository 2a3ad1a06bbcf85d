"""BLIP: randomised bit flips on a CLK (Schnell & Borgs, ICDMW 2016), which clkhash lacks.

Every bit of a finished CLK is flipped with a small probability. A true pair still agrees on
most bits (the linkage cost is small), but the similarity structure among records that
graph-matching attacks follow from a few known persons to everyone is drowned
(docs/encoding.md, "Attacks on the encodings the broker holds").

The flips are not drawn from a random generator but from a keyed pseudo-random function of
the CLK itself: SHAKE-256 over a key derived from the linkage secret and the CLK gives one
byte per bit, and a bit flips when its byte is below ``round(p * 256)``. So the same record
encoded twice (or by two providers with the same values) gets the same flips and extracts
stay reproducible, while nobody without the secret can tell which bits flipped.
"""

from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"linkage/blip/v1"
MAX_PROBABILITY = 0.5


def blip_key(secret: bytes) -> bytes:
    """The flip key, derived from the linkage secret (HKDF-SHA256, its own info label)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret)


def threshold(probability: float) -> int:
    """Bytes below this value flip their bit: the probability in steps of 1/256."""
    return round(probability * 256)


def flip(clks: bytes, width: int, key: bytes, probability: float) -> bytes:
    """Each ``width``-byte CLK of ``clks`` (one after the other) with each bit flipped where
    its keyed stream says so; one stream per CLK, compared and packed for all at once."""
    streams = b"".join(hashlib.shake_256(key + clks[start:start + width]).digest(width * 8)
                       for start in range(0, len(clks), width))
    mask = np.frombuffer(streams, dtype=np.uint8) < threshold(probability)
    return (np.frombuffer(clks, dtype=np.uint8) ^ np.packbits(mask)).tobytes()
