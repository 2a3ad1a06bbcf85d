"""Exact-token linkage: a hash join on the 32-byte keyed INSZ tokens, before any similarity.

Rules, in order:

1. Records that share a token link, one record per set. When a set holds several records
   with the same token (a duplicate registration), the one whose CLK agrees best with the
   other sets' records carrying that token is linked; the others are set aside (they are
   the same person as a group that already holds a record of their set, so they can link
   nowhere else) unless their CLK contradicts every other set's record of the token (rule
   2): then the number was recorded against the wrong person, and the record goes on to
   similarity matching to find its own.
2. A token link is vetoed when it is contradicted by the CLKs: a record whose CLK is no
   more similar to any other record of its token group than an unrelated pair typically is
   (below ``unrelated_bound``) leaves the group. That catches a national number recorded
   against the wrong person. Vetoed records go on to similarity matching.
3. Each record keeps the identity of its *register number* (``TokenLinks.register``): the
   token of a national-register number (first byte 1, ``linkage.insz.KIND_BYTE``) that no
   CLK contradicted. Two records with different register numbers are different persons, so
   similarity never links them (``engine``, ``solver``); a BIS number (byte 2) or a
   contradicted token says nothing against a link, so a BIS number later replaced by a
   register number still links. Tokens of another scheme (any other first byte) count as
   BIS numbers.
4. A record may also carry the token of the number its own one *replaced*
   (``replaced_lists``: the register knows which BIS number a national-register number
   superseded). Before the join, every other record holding that replaced number is read as
   holding the number that replaced it, so a record that still carries the old BIS number
   joins the person's group. A replaced number claimed by records of two different current
   numbers says nothing and is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, cast

import numpy as np

from linkage.insz import KIND_BYTE
from linkage.matching.errors import MatchingError
from linkage.matching.records import Records

TOKEN_BYTES = 32
TOKEN_WORDS = TOKEN_BYTES // 8
REGISTER_KIND = KIND_BYTE["nn"]


@dataclass
class TokenLinks:
    cluster: np.ndarray
    """Per global record, its cluster: the smallest global id of its token group, or itself."""
    excluded: np.ndarray
    """Per global record, True for within-set duplicates set aside by rule 1."""
    register: np.ndarray
    """Per global record, the same number >= 0 for the same register number (rule 3), or -1:
    no token, a BIS number, or a token its CLK contradicted."""
    tokened: np.ndarray
    """Per global record, whether it took part in the join with its token (it holds one, and
    was neither set aside nor vetoed), whether or not another source shares it."""
    stats: dict = field(default_factory=dict)


def _token_table(token_lists: Sequence[Sequence[bytes | None] | None], names: Sequence[str], records: Records,
                 what: str = "exact token"):
    """Global ids of records with a token and the tokens as ``(T, 4)`` uint64; a set whose
    list is ``None`` has none."""
    gids, blobs = [], []
    for k, tokens in enumerate(token_lists):
        if tokens is None:
            continue
        lengths = np.fromiter((-1 if t is None else len(t) for t in tokens), np.int64, count=len(tokens))
        wrong = np.flatnonzero((lengths >= 0) & (lengths != TOKEN_BYTES))
        present = np.flatnonzero(lengths == TOKEN_BYTES)
        try:
            blobs.append(b"".join([cast(bytes, tokens[i]) for i in present.tolist()]))
        except TypeError:
            wrong = np.r_[wrong, present[:1]]
        if len(wrong):
            raise MatchingError(
                f"{names[k]}: row {int(wrong.min()) + 1}: {what} is not {TOKEN_BYTES} bytes; "
                "re-encode the file with 'linkage encode'"
            )
        gids.append(present + records.offsets[k])
    table = np.frombuffer(b"".join(blobs), dtype=np.uint64).reshape(-1, TOKEN_WORDS)
    return np.concatenate(gids) if gids else np.zeros(0, np.int64), table


def _read_replaced(gids: np.ndarray, table: np.ndarray, replaced_gids: np.ndarray,
                   replaced: np.ndarray) -> tuple[np.ndarray, int]:
    """``table`` with every token that some record names as replaced by its own token
    rewritten to that record's token (rule 4), and the number of tokens rewritten. ``gids``
    and ``replaced_gids`` are ascending."""
    at = np.searchsorted(gids, replaced_gids)
    own = (at < len(gids)) & (gids[np.minimum(at, len(gids) - 1)] == replaced_gids)
    # the distinct (old, new) claims, sorted by the old number; one claimed twice is ambiguous
    claims = np.unique(_as_keys(np.concatenate([replaced[own], table[at[own]]], axis=1)))
    claims = claims.view(np.uint64).reshape(-1, 2 * TOKEN_WORDS)
    old, first, times = np.unique(_as_keys(claims[:, :TOKEN_WORDS]), return_index=True, return_counts=True)
    old, new = old[times == 1], claims[first[times == 1], TOKEN_WORDS:]
    if len(old) == 0:
        return table, 0
    keys = _as_keys(table)
    at = np.minimum(np.searchsorted(old, keys), len(old) - 1)
    hit = np.flatnonzero(old[at] == keys)
    table = table.copy()
    table[hit] = new[at[hit]]
    return table, int(len(hit))


def _as_keys(table: np.ndarray) -> np.ndarray:
    """``(T, w)`` uint64 rows as ``T`` sortable values of ``8 w`` bytes."""
    return np.ascontiguousarray(table).view(np.dtype((np.void, 8 * table.shape[1]))).ravel()


def _sort_tokens(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order that brings equal tokens together, and a group number per sorted entry.

    Tokens are HMAC outputs, so sorting on the first 64-bit word nearly always suffices;
    when two different tokens share it, the full lexicographic sort is used instead."""
    order = np.argsort(table[:, 0], kind="stable")
    ordered = table[order]
    differs = np.any(ordered[1:] != ordered[:-1], axis=1)
    if np.any(differs & (ordered[1:, 0] == ordered[:-1, 0])):
        order = np.lexsort(table.T[::-1])
        ordered = table[order]
        differs = np.any(ordered[1:] != ordered[:-1], axis=1)
    return order, np.cumsum(np.r_[True, differs]) - 1


def link_tokens(
    token_lists: Sequence[Sequence[bytes | None]],
    names: Sequence[str],
    records: Records,
    unrelated_bound: float | None,
    replaced_lists: Sequence[Sequence[bytes | None] | None] | None = None,
) -> TokenLinks:
    """Group records by exact token (see the module docstring). ``unrelated_bound=None``
    switches the CLK veto off; ``replaced_lists`` (per set, or ``None`` for a set without
    them) holds the token of the number each record's number replaced (rule 4)."""
    n = records.total
    cluster = np.arange(n, dtype=np.int64)
    excluded = np.zeros(n, dtype=bool)
    register = np.full(n, -1, dtype=np.int64)
    gids, table = _token_table(token_lists, names, records)
    with_token = np.bincount(records.set_of(gids), minlength=records.set_count)
    per_set = {name: {"with_token": int(with_token[k]), "duplicates_set_aside": 0, "vetoed": 0}
               for k, name in enumerate(names)}
    stats: dict[str, Any] = {"per_set": per_set, "token_groups": 0, "vetoed_records": 0, "replaced_numbers_read": 0}
    tokened = np.zeros(n, dtype=bool)
    tokened[gids] = True
    if len(gids) == 0:
        return TokenLinks(cluster, excluded, register, tokened, stats)
    if replaced_lists is not None:
        old = _token_table(replaced_lists, names, records, "replaced-number token")
        table, stats["replaced_numbers_read"] = _read_replaced(gids, table, *old)

    order, group = _sort_tokens(table)
    gids = gids[order]
    sets = records.set_of(gids)
    kind = table.view(np.uint8)[order, 0]
    register[gids[kind == REGISTER_KIND]] = group[kind == REGISTER_KIND]

    # Keep groups spanning at least two sets; pick one record per set within them.
    keep = _spans_two_sets(group, sets)
    gids, group, sets = gids[keep], group[keep], sets[keep]
    chosen, released = _one_per_set(gids, group, sets, records, unrelated_bound)
    aside = ~chosen & ~released
    for k in range(records.set_count):
        per_set[names[k]]["duplicates_set_aside"] = int(np.sum(aside & (sets == k)))
        per_set[names[k]]["vetoed"] = int(np.sum(released & (sets == k)))
    stats["vetoed_records"] = int(released.sum())
    excluded[gids[aside]] = True
    tokened[gids[aside | released]] = False
    register[gids[released]] = -1
    gids, group, sets = gids[chosen], group[chosen], sets[chosen]

    if unrelated_bound is not None:
        vetoed = _contradicted(gids, group, records, unrelated_bound)
        for k in range(records.set_count):
            per_set[names[k]]["vetoed"] += int(np.sum(vetoed & (sets == k)))
        stats["vetoed_records"] += int(vetoed.sum())
        register[gids[vetoed]] = -1
        tokened[gids[vetoed]] = False
        gids, group, sets = gids[~vetoed], group[~vetoed], sets[~vetoed]
        keep = _spans_two_sets(group, sets)
        gids, group = gids[keep], group[keep]

    if len(gids):
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        smallest = np.minimum.reduceat(gids, starts)
        sizes = np.diff(np.r_[starts, len(gids)])
        cluster[gids] = np.repeat(smallest, sizes)
        stats["token_groups"] = int(len(starts))
    return TokenLinks(cluster, excluded, register, tokened, stats)


def _spans_two_sets(group: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """Mask of entries whose group holds records of at least two sets (entries sorted by group)."""
    if len(group) == 0:
        return np.zeros(0, dtype=bool)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    lowest = np.minimum.reduceat(sets, starts)
    highest = np.maximum.reduceat(sets, starts)
    sizes = np.diff(np.r_[starts, len(group)])
    return np.repeat(highest > lowest, sizes)


def _one_per_set(gids: np.ndarray, group: np.ndarray, sets: np.ndarray, records: Records,
                 bound: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Masks choosing one entry per (group, set), duplicates resolved by CLK agreement, and
    releasing the duplicates not chosen whose CLK scores below ``bound`` against every
    record of the other sets in the group (``bound=None``: none released)."""
    chosen = np.ones(len(gids), dtype=bool)
    released = np.zeros(len(gids), dtype=bool)
    if len(gids) < 2:
        return chosen, released
    same = (group[1:] == group[:-1]) & (sets[1:] == sets[:-1])
    if not same.any():
        return chosen, released
    # A plain loop over the groups holding duplicates: duplicate tokens are rare.
    dup_groups = np.unique(group[np.r_[same, False] | np.r_[False, same]])
    lo = np.searchsorted(group, dup_groups, side="left")
    hi = np.searchsorted(group, dup_groups, side="right")
    for start, stop in zip(lo, hi):
        _choose_in_group(np.arange(start, stop), gids, sets, records, chosen, released, bound)
    return chosen, released


def _choose_in_group(members, gids, sets, records: Records, chosen: np.ndarray, released: np.ndarray,
                     bound: float | None) -> None:
    member_sets = sets[members]
    for k in np.unique(member_sets):
        mine = members[member_sets == k]
        if len(mine) == 1:
            continue
        others = members[member_sets != k]
        ga = np.repeat(gids[mine], len(others))
        gb = np.tile(gids[others], len(mine))
        scores = records.scores(ga, gb).reshape(len(mine), len(others))
        best = int(np.argmax(scores.mean(axis=1)))
        chosen[mine] = False
        chosen[mine[best]] = True
        if bound is not None:
            contradicted = scores.max(axis=1) < bound
            contradicted[best] = False
            released[mine[contradicted]] = True


def _contradicted(gids: np.ndarray, group: np.ndarray, records: Records, bound: float) -> np.ndarray:
    """Entries whose CLK scores below ``bound`` against every other member of their group."""
    best = np.full(len(gids), -1.0, dtype=np.float32)
    for step in range(1, len(gids)):
        left = np.flatnonzero(group[step:] == group[:-step])
        if len(left) == 0:
            break
        right = left + step
        scores = records.scores(gids[left], gids[right])
        np.maximum.at(best, left, scores)
        np.maximum.at(best, right, scores)
    return best < bound
