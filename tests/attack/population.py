"""The attack suite's population: a synthetic population the defence was not tuned on, in two
linkage runs over overlapping persons (used by the suite's fixtures and by bench/bench_cellkey.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.aggregate.compute import LinkedData
from linkage.aggregate.truth import truth_linked_data
from linkage.disclosure.person_keys import person_keys
from linkage.synth import generate


PERSONS = 12_000
SEED = 909
"""Not a seed any other test or benchmark uses: figures on tuned data are not evidence."""

NEWCOMERS = 3
"""Persons present in the second run only (next year's extract holds mostly the same people)."""


def _keyed(tables, snapshot: str) -> LinkedData:
    """Linked data keyed as the broker keys a run's persons (``person_keys``): no national
    numbers here, so each person by the reference of its record in the population register,
    which the provider keeps from one extract to the next."""
    ids = np.unique(np.concatenate([t["entity_id"].to_numpy() for t in tables.values()]))
    keys = person_keys(b"attack-suite-person-key-secret!!", ["ksz"], [[f"ksz-{i}" for i in ids]],
                       [[None] * len(ids)], [ids])[0]
    return LinkedData(tables, snapshot, (ids, keys))


def without(data: LinkedData, entities: pa.Array, snapshot: str) -> LinkedData:
    tables = {source: table.filter(pc.invert(pc.is_in(table["entity_id"], entities)))
              for source, table in data.tables.items()}
    return _keyed(tables, snapshot)


def newcomers(data: LinkedData) -> pa.Array:
    """A few residents with a rare current nationality (a small group), known in 2022."""
    ksz = data.tables["ksz"]
    known = ksz.filter(pc.is_valid(ksz["sep_2022"]))
    counts = pc.value_counts(known["nat_current"]).to_pylist()
    rare = sorted((c["counts"], c["values"]) for c in counts if c["counts"] >= NEWCOMERS)[0][1]
    chosen = known.filter(pc.equal(known["nat_current"], rare))["entity_id"]
    return chosen.slice(0, NEWCOMERS).combine_chunks()



def attack_runs(folder: Path) -> dict[str, LinkedData]:
    """``run-1``: the population without the newcomers; ``run-2``: everyone (a perfect
    linkage of the generator's extracts, so that the truth is known per person). Entity ids
    are the same in both runs here; the person keys are what relates them, as in the broker."""
    generate(PERSONS, SEED, folder)
    everyone = truth_linked_data(folder)
    return {"run-1": without(everyone, newcomers(everyone), "run-1"),
            "run-2": _keyed(everyone.tables, "run-2")}
