"""The sources and the payload attributes each may carry, read from declaration files.

The payload is declared per source, typed, so that an extract can never carry an attribute
the statistics registry does not need: ``linkage encode`` writes exactly these columns (and
nothing undeclared), the synthetic generator produces them, and the broker's aggregation
reads them. The declarations are data (``linkage/sources/data/*.toml``, plus the operator's
folder in ``LINKAGE_SOURCES_DIR``); their content fingerprint is ``PAYLOAD_VERSION``.
"""

from __future__ import annotations

from linkage.sources.attributes import KINDS, Attribute, Kind, PayloadError, SourceSpec, Value
from linkage.sources.declarations import SourceDeclarationError, load_sources

SOURCES: dict[str, SourceSpec]
PAYLOAD_VERSION: str
SOURCES, PAYLOAD_VERSION = load_sources()
"""Every known source by name, and the fingerprint of the bundled declarations."""

SEP_YEARS: tuple[int, ...] = tuple(
    int(a.name.removeprefix("sep_")) for a in SOURCES["ksz"].payload if a.name.startswith("sep_"))
"""Years for which KSZ delivers the socio-economic position on 31 December."""

SEP_CODES: tuple[str, ...] = SOURCES["ksz"].attribute(f"sep_{SEP_YEARS[-1]}").allowed
"""The KSZ socio-economic position codes."""


IDENTIFIERS_ONLY = SourceSpec(
    "", "identifiers only (encoded without --source): for tuning a schema with 'linkage match'; "
    "the broker refuses it", (), PAYLOAD_VERSION)
"""What ``linkage encode`` without ``--source`` writes: encodings and no payload."""


def source_spec(name: str) -> SourceSpec:
    """The declaration of a source (``""``: identifiers only), or a clear error naming the known ones."""
    if name == IDENTIFIERS_ONLY.name:
        return IDENTIFIERS_ONLY
    try:
        return SOURCES[name]
    except KeyError:
        raise PayloadError(
            f"unknown source {name!r}; known sources are {', '.join(sorted(SOURCES))}"
        ) from None


__all__ = ["IDENTIFIERS_ONLY", "KINDS", "PAYLOAD_VERSION", "SEP_CODES", "SEP_YEARS", "SOURCES", "Attribute", "Kind",
           "PayloadError", "SourceDeclarationError", "SourceSpec", "Value", "source_spec"]
