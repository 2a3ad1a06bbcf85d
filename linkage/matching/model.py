"""The engine's inputs and result (the interface in docs/CONTRACTS.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from linkage.extract import Extract
from linkage.matching.ages import LifeYears
from linkage.sources import source_spec
from linkage.sources.attributes import PayloadError


@dataclass(frozen=True)
class EncodedSet:
    source: str
    record_ids: Sequence[str]
    clks: np.ndarray
    """``(n, bytes)`` uint8."""
    exact_tokens: Sequence[bytes | None]
    fingerprint: str = ""
    """Linkage-configuration fingerprint of the extract; sets link only when theirs are equal
    (an empty fingerprint is not checked)."""
    replaced_tokens: Sequence[bytes | None] | None = None
    """Per record, the token of the number its own number replaced (a BIS number superseded by
    a national-register number), or ``None``; ``None`` for a set without them."""
    life: LifeYears = LifeYears()
    """Per record, the year of birth and the year of the event the source declares (roles in
    its declaration), for the age rule (:mod:`.ages`); none for a set without them."""


@dataclass
class LinkResult:
    group_ids: list[np.ndarray]
    """One int64 array per input set: the group of each record. Records in no link have a
    group of their own. Groups are numbered 0, 1, ... in order of first appearance."""
    threshold: float
    threshold_origin: str
    """``"automatic"`` or ``"given"``."""
    quality: dict = field(default_factory=dict)
    """JSON-safe aggregates only: counts per set and set pair, histograms, the rationale."""


def encoded_set(extract: Extract) -> EncodedSet:
    return EncodedSet(
        source=extract.header.source,
        record_ids=extract.record_ids,
        clks=extract.clks,
        exact_tokens=extract.exact_tokens,
        fingerprint=extract.header.fingerprint,
        replaced_tokens=extract.replaced_tokens,
        life=life_years(extract.header.source, extract.payload),
    )


def life_years(source: str, payload) -> LifeYears:
    """The ages' inputs of a set of ``source`` from its payload columns (none for a source
    this installation does not declare, such as a clkhash file's)."""
    try:
        spec = source_spec(source)
    except PayloadError:
        return LifeYears()
    return LifeYears.from_payload(spec, payload)
