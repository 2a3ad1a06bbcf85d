"""Linkage quality against known truth (synthetic data): precision, recall and F1 per source
pair, and recall per population group (e.g. origin), because linkage errors that differ by
origin bias exactly the gap being measured.

Definitions, per source pair (s, t):

- *true pairs*: persons with a record in both s and t;
- *linked pairs*: record pairs (one of s, one of t) placed in the same group;
- precision = linked pairs of the same person / linked pairs;
- recall = persons with a correctly linked pair / true pairs (a person with duplicate records
  counts once);
- F1 = their harmonic mean.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import numpy as np

from linkage.matching.model import EncodedSet, LinkResult


@dataclass
class PairQuality:
    sources: tuple[str, str]
    true_pairs: int
    linked_pairs: int
    correct_pairs: int
    persons_found: int
    recall_by_group: dict[str, tuple[int, int]] = field(default_factory=dict)
    """group -> (persons correctly linked, persons in both sources)."""

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.persons_found / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def group_recall(self) -> dict[str, float]:
        return {g: found / total for g, (found, total) in self.recall_by_group.items() if total}

    def recall_spread(self) -> float:
        """Largest minus smallest recall over the groups (0 with fewer than two groups)."""
        values = list(self.group_recall().values())
        return max(values) - min(values) if len(values) > 1 else 0.0


def linked_rows(result: LinkResult, sets: Sequence[EncodedSet]) -> Iterable[tuple[int, str, str]]:
    """``(group_id, source, record_id)`` for every record of a group of two or more."""
    sizes = np.bincount(np.concatenate(result.group_ids)) if result.group_ids else np.zeros(0)
    for encoded, groups in zip(sets, result.group_ids):
        for row in np.flatnonzero(sizes[groups] > 1).tolist():
            yield int(groups[row]), encoded.source, encoded.record_ids[row]


def evaluate(
    groups: Iterable[tuple[int, str, str]],
    truth: Mapping[tuple[str, str], str],
    person_group: Mapping[str, str] | None = None,
    sources: Sequence[str] | None = None,
) -> list[PairQuality]:
    """Quality per source pair.

    ``groups``: rows ``(group_id, source, record_id)`` as in GROUPS.csv; ``truth`` maps
    ``(source, record_id)`` to the person behind the record (every record of the inputs);
    ``person_group`` optionally maps a person to a group label (e.g. an origin group) for
    recall per group; ``sources`` fixes the pairs and their order (default: as in truth).
    """
    names = list(sources) if sources else list(dict.fromkeys(s for s, _ in truth))
    persons_in: dict[str, set[str]] = defaultdict(set)
    for (source, _), person in truth.items():
        persons_in[source].add(person)
    members: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for group_id, source, record_id in groups:
        members[group_id][source].append(truth[(source, record_id)])

    results = []
    for s, t in combinations(names, 2):
        both = persons_in[s] & persons_in[t]
        linked = correct = 0
        found: set[str] = set()
        for group in members.values():
            for ps in group.get(s, ()):
                for pt in group.get(t, ()):
                    linked += 1
                    if ps == pt:
                        correct += 1
                        found.add(ps)
        by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        if person_group is not None:
            for person in both:
                counts = by_group[person_group.get(person, "unknown")]
                counts[1] += 1
                counts[0] += person in found
        results.append(PairQuality((s, t), len(both), linked, correct, len(found),
                                   {g: (c[0], c[1]) for g, c in sorted(by_group.items())}))
    return results
