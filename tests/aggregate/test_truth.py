"""Against the generator's truth: a perfect linkage of the real extracts gives the truth exactly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from linkage.aggregate.compute import LinkedData, compute, source_table
from linkage.aggregate.request import validate_request
from linkage.aggregate.truth import compare, format_comparison, true_entity_ids, truth_linked_data
from linkage.encoding.encode import encode_csv
from linkage.synth import generate

SOURCES = ("ksz", "vdab", "integration", "education")
REQUESTS = [
    ("ksz", 2023, ["persons", "employment_rate"], ["origin_group:sem", "sex", "age_band"]),
    ("vdab", 2021, ["persons", "outflow_to_work_12m", "employment_rate"], ["origin_category:statbel", "generation:sem"]),
    ("integration", 2020, ["integration_completion_rate", "nt2_a2_or_higher_rate", "employment_rate_after_2y"],
     ["origin_group:serv_eu15", "integration_outcome"]),
    ("education", 2023, ["school_delay_rate", "early_leaving_rate"], ["origin_group:sem:belgian_eu_noneu", "province"]),
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synth")
    generate(600, 5, directory)
    extracts = {}
    for source in SOURCES:
        extracts[source], _ = encode_csv(directory / f"{source}.csv", "belgian-v1", b"k" * 32, source=source,
                                         id_column="record_id", exact_column="insz")
    return directory, extracts


def perfectly_linked(directory, extracts) -> LinkedData:
    """Each record joined to its person; a within-source duplicate is left out (one record per
    source per entity), as a perfect linkage that also resolved duplicates would."""
    tables = {}
    for source, extract in extracts.items():
        entities = true_entity_ids(directory, source, extract.record_ids)
        _, first = np.unique(entities, return_index=True)
        keep = np.zeros(len(entities), dtype=bool)
        keep[first] = True
        tables[source] = source_table(extract, entities).filter(keep)
    return LinkedData(tables, "perfect")


@pytest.mark.parametrize("population, period, measures, dimensions", REQUESTS)
def test_perfect_linkage_reproduces_the_truth_exactly(synthetic, population, period, measures, dimensions):
    directory, extracts = synthetic
    request = validate_request({
        "authorisation": "TEST", "population": population, "period": period, "measures": measures,
        "dimensions": dimensions, "reference_date": dt.date(2024, 12, 31),
    })
    truth = compute(request, truth_linked_data(directory))
    linked = compute(request, perfectly_linked(directory, extracts))
    for name in measures:
        assert linked[name].counts == truth[name].counts
        assert linked[name].numerators == truth[name].numerators
    assert sum(truth[measures[0]].counts.values()) > 0


def test_compare_reports_linkage_errors_per_origin_group(synthetic):
    directory, extracts = synthetic
    request = validate_request({
        "authorisation": "TEST", "population": "vdab", "period": 2021, "measures": ["persons"],
        "dimensions": ["origin_group:sem", "sex"], "reference_date": dt.date(2024, 12, 31),
    })
    truth = compute(request, truth_linked_data(directory))["persons"]
    # A linkage that missed every KSZ link: the same job seekers, all of unknown origin.
    missed = perfectly_linked(directory, extracts)
    no_ksz = LinkedData({s: t for s, t in missed.tables.items() if s != "ksz"} | {
        "ksz": missed.tables["ksz"].slice(0, 0)}, "missed")
    observed = compute(request, no_ksz)["persons"]
    rows = {r.category: r for r in compare(observed, truth, "origin_group:sem:sem_regions")}
    total = sum(r.truth for r in rows.values())
    assert rows["unknown"].observed == total
    assert rows["belgium"].difference == -rows["belgium"].truth < 0
    assert sum(r.difference for r in rows.values()) == 0
    assert "belgium" in format_comparison(list(rows.values()))
