"""The hashing keys of a schema's features: one key for every feature that holds names.

clkhash derives a key per feature from the provider's secret (HKDF with the schema's salt and
info), so the same token sets different bits in different features. For a date against a
postcode that is right; for names it is not. A schema with the given names and the surname as
separate features (what clkhash's documentation shows, and what a provider writes) could then
never link a record whose given name and surname were swapped: its name bigrams land on other
bits than its partner's. Swaps are common outside the population register (4 % of the
integration agency's records in the held-out population; names whose order differs by
culture), and they defeat the national number too, whose link is vetoed when the CLKs
disagree (docs/matching.md).

So every feature that reads only name columns (given names, surname) is hashed under one key,
the first such feature's, unless one feature already holds both (:func:`name_key_features`): a
name token then sets the same bits in whichever of them it sits, given the same comparison and
hash (:func:`name_features_agree`). A schema whose names are in one feature (``belgian-v1`` to
``-v4``) keeps clkhash's keys and its fingerprint; a schema whose name features share a key gets
a fingerprint of its own (``LinkageSchema.configuration_fingerprint``), so its extracts are never
mixed with ones made under per-feature keys.

Measured (development seeds 90210 and 777, 200k persons, held-out rates, a provider's plain
schema): ksz-integration F1 0.9840 / 0.9843 with a key per feature, 0.9912 / 0.9933 with one
name key; on the same populations generated without swaps 0.9913 / 0.9913 and 0.9882 / 0.9926
(look-alikes whose given name is another's surname now agree a little more).
"""

from __future__ import annotations

from typing import Any, Sequence

from clkhash.key_derivation import generate_key_lists
from clkhash.schema import Schema

from linkage.encoding.features import GIVEN_NAMES, SURNAME, Feature

NAME_KINDS = frozenset({GIVEN_NAMES, SURNAME})


def name_key_features(features: Sequence[Feature | None]) -> list[int]:
    """Positions of the features that share the name key: those that read name columns only,
    unless one of them already reads both given names and surname (``given_names.first+surname``):
    that feature agrees under a swap by itself, and a surname feature next to it is there to
    weigh the surname again, which bits shared with it would undo."""
    kinds = [None if feature is None else {source.kind for source in feature.sources} for feature in features]
    if any(k is not None and NAME_KINDS <= k for k in kinds):
        return []
    return [i for i, k in enumerate(kinds) if k is not None and k <= NAME_KINDS]


def shares_name_key(features: Sequence[Feature | None]) -> bool:
    """Whether several features share the name key (:func:`name_key_features`)."""
    return len(name_key_features(features)) > 1


def feature_keys(schema: Schema, secret: bytes, features: Sequence[Feature | None]) -> list[Any]:
    """clkhash's key pair per field, with every name feature given the first one's."""
    keys = list(generate_key_lists(secret, len(schema.fields), key_size=schema.kdf_key_size,
                                   salt=schema.kdf_salt, info=schema.kdf_info, kdf=schema.kdf_type,
                                   hash_algo=schema.kdf_hash))
    names = name_key_features(features)
    for i in names[1:]:
        keys[i] = keys[names[0]]
    return keys


def name_features_agree(features: Sequence[Feature | None]) -> bool:
    """Whether the name features cut and hash a value alike (comparison, hash, text
    encoding), so that a name sets the same bits in any of them under the shared key."""
    signatures = set()
    for i in name_key_features(features):
        feature = features[i]
        assert feature is not None
        properties = feature.field.hashing_properties
        comparator = properties.comparator
        signatures.add((type(comparator).__name__, tuple(sorted(vars(comparator).items())),
                        properties.hash_type, properties.encoding))
    return len(signatures) <= 1
