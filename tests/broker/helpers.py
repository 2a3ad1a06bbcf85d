"""Helpers for the broker tests: extracts with random CLKs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from linkage.extract import Extract, ExtractHeader, write_extract
from linkage.sources import PAYLOAD_VERSION, Attribute, source_spec

FINGERPRINT = "sha256:" + "ab" * 32
CLK_BITS = 1024


def payload_value(attribute: Attribute, i: int):
    if attribute.kind == "category":
        return attribute.allowed[i % len(attribute.allowed)]
    if attribute.kind == "str":
        if attribute.pattern == "[0-9]{5}":
            return "11002"
        return ("150", "150", "150", "212", "140")[i % 5]
    if attribute.kind == "int":
        return attribute.minimum if attribute.minimum is not None else i
    if attribute.kind == "date":
        return dt.date(2023, 1, 1) + dt.timedelta(days=i % 300)
    return i % 2 == 0


def population_bits(n: int, seed: int = 0) -> np.ndarray:
    """``n`` random people as unpacked CLK bits (about 40 % set)."""
    return np.random.default_rng(seed).random((n, CLK_BITS)) < 0.4


def make_extract(path: Path, source: str, n: int = 200, *, seed: int = 1, people: np.ndarray | None = None,
                 fingerprint: str = FINGERPRINT, clk_bits: int = CLK_BITS, noise: float = 0.02,
                 prefix: str | None = None) -> Path:
    """Write a valid extract of ``source``: CLKs of ``people`` (the first ``n``, with some
    bit noise) or random ones, and declared payload values."""
    rng = np.random.default_rng(seed)
    if people is None:
        bits = rng.random((n, clk_bits)) < 0.4
    else:
        bits = people[:n] ^ (rng.random((n, people.shape[1])) < noise)
    clks = np.packbits(bits, axis=1)[:, : clk_bits // 8]
    spec = source_spec(source)
    payload = {a.name: [payload_value(a, i) for i in range(n)] for a in spec.payload}
    header = ExtractHeader(
        source=source, fingerprint=fingerprint, schema_fingerprint="sha256:test",
        normalisation_version="test", clk_bits=clk_bits, record_count=n,
        created="2024-06-01T00:00:00+00:00", payload_version=PAYLOAD_VERSION,
        payload_columns=tuple(payload),
    )
    ids = [f"{prefix or source}-{i}" for i in range(n)]
    write_extract(path, Extract(header, ids, np.ascontiguousarray(clks), [None] * n, payload))
    return path
