"""GROUPS.csv: the output of ``linkage match``.

Columns ``group_id,source,record_id``, one row per record of a linked group (a group of two
or more records, as anonlink writes them); with ``singletons=True`` also one row per unlinked
record, each in a group of its own. Group ids are 0, 1, ... in order of first appearance;
rows are ordered by group id and then by the order of the input files.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from linkage.files import atomic_text_file
from linkage.matching.errors import MatchingError

COLUMNS = ("group_id", "source", "record_id")


def write_groups(
    path: str | Path,
    sources: Sequence[str],
    record_ids: Sequence[Sequence[str]],
    group_ids: Sequence[np.ndarray],
    singletons: bool = False,
) -> int:
    """Write atomically (a temporary file renamed into place); returns the rows written."""
    gids = np.concatenate(group_ids) if group_ids else np.zeros(0, np.int64)
    set_index = np.repeat(np.arange(len(sources)), [len(g) for g in group_ids])
    local = np.concatenate([np.arange(len(g)) for g in group_ids]) if group_ids else gids
    keep = np.ones(len(gids), dtype=bool)
    if not singletons and len(gids):
        keep = np.bincount(gids)[gids] > 1
    order = np.flatnonzero(keep)[np.lexsort((local[keep], set_index[keep], gids[keep]))]
    _, numbered = np.unique(gids[order], return_inverse=True)
    rows = (
        (int(g), sources[k], record_ids[k][i])
        for g, k, i in zip(numbered.tolist(), set_index[order].tolist(), local[order].tolist())
    )
    try:
        with atomic_text_file(path, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)
    except OSError as exc:
        raise MatchingError(f"cannot write {path}: {exc.strerror}") from None
    return len(order)


def read_groups(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """Rows of a GROUPS.csv as ``(group_id, source, record_id)``; a malformed file is an error."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if tuple(header or ()) != COLUMNS:
                raise MatchingError(f"{path}: first line must be {','.join(COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                if len(row) != 3 or not row[0].isdigit():
                    raise MatchingError(f"{path}: line {line} is not group_id,source,record_id")
                yield int(row[0]), row[1], row[2]
    except OSError as exc:
        raise MatchingError(f"cannot read {path}: {exc.strerror}") from None
