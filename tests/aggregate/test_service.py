"""The service: exact counts through disclosure control, margins, ledger and metadata."""

from __future__ import annotations

import datetime as dt
import itertools

from linkage.aggregate.compute import compute
from linkage.aggregate.request import validate_request
from linkage.aggregate.service import (
    answer_request, ledger_dimension_name, ledger_population, sources_read,
)
from linkage.aggregate import registry
from linkage.disclosure import ReleaseLedger

from .helpers import ksz_person, linked

D = dt.date


def people(n: int, seed_shift: int = 0) -> list[dict]:
    """n KSZ residents spread evenly over sex, three nationalities and ages, positions mixed."""
    rows = []
    for i in range(n):
        nationality = ("150", "354", "139")[(i // 2) % 3]
        rows.append(ksz_person(i, "MF"[i % 2], 1960 + (i * 7 + seed_shift) % 40, nationality=nationality,
                               father=nationality, mother=nationality,
                               sep_2022=("111", "211", "321", "112")[(i // 6) % 4]))
    return rows


def request(measures, dimensions=("origin_group:sem", "sex"), reference_date=D(2023, 12, 31)):
    return validate_request({"authorisation": "IVC-24-001", "population": "ksz", "period": 2022,
                             "measures": list(measures), "dimensions": list(dimensions),
                             "reference_date": reference_date})


def leaves_under(key, categories_per_dimension):
    options = [cats if k == "Total" else (k,) for k, cats in zip(key, categories_per_dimension)]
    return itertools.product(*options)


def test_published_margins_are_the_sums_of_their_leaves():
    req = request(["persons", "employment_rate"])
    data = linked(ksz=people(600))
    answer = answer_request(req, data, k=5)
    exact = compute(req, data)
    for table in answer.tables:
        leaf = exact[table.measure]
        categories = [d.categories for d in table.dimensions]
        assert len(table.cells) == (12 + 1) * (3 + 1)
        published_margins = 0
        for cell in table.cells:
            if cell.suppressed or "Total" not in cell.key:
                continue
            published_margins += 1
            under = list(leaves_under(cell.key, categories))
            assert cell.count == sum(leaf.counts[k] for k in under)
            if leaf.numerators is not None:
                assert cell.numerator == sum(leaf.numerators[k] for k in under)
        assert published_margins >= 4
        assert table.cell(("Total", "Total")).count == sum(leaf.counts.values())


def test_small_cells_are_suppressed_with_a_reason_and_no_value():
    rows = people(600) + [ksz_person(1000 + i, nationality="402", father="402", mother="402",
                                     sep_2022="111") for i in range(2)]   # two North Americans
    answer = answer_request(request(["persons"]), linked(ksz=rows), k=5)
    table = answer.table("persons")
    cell = table.cell(("north_america", "F"))
    assert cell.suppressed and cell.count is None and cell.status == "primary" and cell.reason
    assert any(c.status == "secondary" for c in table.cells)     # it cannot be recomputed from margins
    assert table.cell(("Total", "Total")).count == 602


def test_the_ledger_repeats_a_release_and_shares_cells_between_measures_of_one_cohort(tmp_path):
    data = linked(ksz=people(600) + [ksz_person(2000, nationality="402", father="402", mother="402",
                                                sep_2022="111")])
    with ReleaseLedger(tmp_path / "ledger.sqlite") as ledger:
        first = answer_request(request(["persons"]), data, k=5, ledger=ledger)
        again = answer_request(request(["persons"]), data, k=5, ledger=ledger)
        def shown(answer):
            return [(c.key, c.count, c.status) for c in answer.table("persons").cells]
        assert shown(again) == shown(first)
        assert "earlier release" in again.table("persons").cell(("belgium", "M")).reason
        assert again.table("persons").audit["joint_releases"] == 1   # audited with the first
        rates = answer_request(request(["employment_rate"]), data, k=5, ledger=ledger)
    assert first.table("persons").audit["passed"] is True
    # The employment rate counts another cohort (ages 20-64), so the ledger keeps it apart.
    assert ledger_population(request(["persons"]), registry.measure("persons")) != \
        ledger_population(request(["employment_rate"]), registry.measure("employment_rate"))
    assert rates.table("employment_rate").cell(("Total", "Total")).count is not None


def test_date_aware_dimensions_are_distinct_cells_per_reference_date():
    date = D(2004, 5, 1)
    eu, regions = (validate_request({
        "authorisation": "A", "population": "vdab", "period": 2003, "measures": ["persons"],
        "dimensions": [dim], "reference_date": date}).dimensions[0] for dim in ("origin_group:sem:eu",
                                                                               "origin_group:sem"))
    assert ledger_dimension_name(eu, date) == "origin_group:sem:eu@2004-05-01"
    assert ledger_dimension_name(regions, date) == "origin_group:sem:sem_regions"


def test_metadata_names_versions_rules_and_caveats():
    answer = answer_request(request(["persons"], ["origin_group:serv_eu15", "sex"]), linked(ksz=people(60)), k=5)
    meta = answer.metadata
    assert meta["registry_version"] == registry.REGISTRY_VERSION
    assert set(meta["origin_definitions"]) == {"serv_eu15"}
    assert len(meta["origin_definitions"]["serv_eu15"]["fingerprint"]) == 64
    assert meta["rules_version"] and meta["min_cell_size"] == 5 and meta["authorisation"] == "IVC-24-001"
    assert any("Grandparents are not available" in note for note in meta["notes"])
    assert answer.request["dimensions"] == ["origin_group:serv_eu15:eu15", "sex"]


def test_sources_read_cover_population_measures_and_dimensions():
    req = validate_request({"authorisation": "A", "population": "vdab", "period": 2022,
                            "measures": ["outflow_to_work_12m"], "dimensions": ["integration_outcome", "sex"],
                            "reference_date": D(2024, 12, 31)})
    assert sources_read(req) == {"vdab", "integration", "ksz"}
