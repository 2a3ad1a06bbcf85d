"""Person keys that stay the same from one linkage run to the next, for the release ledger.

The ledger relates releases by the persons their cells count (``atoms``). Entity ids are
numbered afresh by every run, so next year's run, which holds mostly the same people,
would look like a new population and two answers on the two runs could be differenced
(this year's cell minus last year's: the newcomers). A person key names the person, not
the run's entity:

1. the keyed hash of the national-number token of any of the entity's records (providers
   compute the same token for the same INSZ in every extract and every source, so the key
   does not depend on which sources the person is in);
2. else the keyed hash of the record reference of the entity's record in the first source of
   :data:`PREFERENCE` it has (providers keep their record references stable from one
   extract to the next; see docs/disclosure.md).

Keys are 64-bit BLAKE2b MACs under a secret the broker derives from its data key: without
the secret they cannot be matched to tokens or record references, and they are only kept
sealed (in a run's clusters and in the ledger). A person whose key changes between runs
(a national number obtained since, a record reference reissued) is two persons to the
ledger: one who left and one who arrived, each a small group the joint audit protects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

PREFERENCE = ("ksz",)
"""Sources whose record reference names a person first (the population register); the other
sources follow by name."""
KEY_BYTES = 8


def _rank(source: str, sources: Sequence[str]) -> int:
    if source in PREFERENCE:
        return PREFERENCE.index(source)
    return len(PREFERENCE) + sorted(s for s in sources if s not in PREFERENCE).index(source)


def person_keys(secret: bytes, sources: Sequence[str], record_ids: Sequence[Sequence[str]],
                tokens: Sequence[Sequence[bytes | None]], groups: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per set (in the order of ``sources``), the uint64 person key of each record's entity;
    every entity of the run gets a key of its own.

    ``record_ids``, ``tokens`` and ``groups`` (the entity id of each record) are given per
    set, as the matching engine takes and returns them. Two entities with one national number
    (a provider's duplicate records that did not link) cannot both be that person: the one
    with the first record reference keeps the token's key, the others are keyed by their
    references."""
    if not 16 <= len(secret) <= 64:
        raise ValueError("the person-key secret must be 16 to 64 bytes")
    token_of: dict[int, bytes] = {}
    reference_of: dict[int, tuple[int, bytes]] = {}
    for source, ids, toks, group in zip(sources, record_ids, tokens, groups, strict=True):
        rank = _rank(source, sources)
        prefix = source.encode() + b"\x00"
        for record_id, token, entity in zip(ids, toks, np.asarray(group).tolist(), strict=True):
            if token and (entity not in token_of or token < token_of[entity]):
                token_of[entity] = token
            claim = (rank, prefix + record_id.encode())
            if entity not in reference_of or claim < reference_of[entity]:
                reference_of[entity] = claim
    material: dict[int, bytes] = {}
    taken: set[bytes] = set()
    for entity in sorted(reference_of, key=reference_of.__getitem__):
        token = token_of.get(entity)
        chosen = b"t" + token if token is not None and b"t" + token not in taken else b"r" + reference_of[entity][1]
        while chosen in taken:             # the same reference twice in one set: a data error
            chosen += b"#"
        taken.add(chosen)
        material[entity] = chosen
    keys = {entity: int.from_bytes(hashlib.blake2b(m, key=secret, digest_size=KEY_BYTES).digest(), "little")
            for entity, m in material.items()}
    return [np.fromiter((keys[e] for e in np.asarray(group).tolist()), dtype=np.uint64, count=len(group))
            for group in groups]
