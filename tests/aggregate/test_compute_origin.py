"""Origin dimensions: classification on distinct histories, joined back to every person."""

import datetime as dt

from linkage.aggregate.compute import compute
from linkage.aggregate.request import validate_request

from .helpers import ksz_person, linked

D = dt.date


def persons(dimensions, ksz, vdab_ids, reference_date=D(2023, 12, 31), period=2022):
    request = validate_request({
        "authorisation": "IVC-24-001", "population": "vdab", "period": period,
        "measures": ["persons"], "dimensions": dimensions, "reference_date": reference_date,
    })
    vdab = [{"entity_id": e, "registration_date": D(period, 3, 1)} for e in vdab_ids]
    counts = compute(request, linked(vdab=vdab, ksz=ksz))["persons"].counts
    return {cell: n for cell, n in counts.items() if n}


KSZ = [
    ksz_person(1),                                            # Belgian of Belgian origin
    ksz_person(2),
    ksz_person(3, father="354"),                              # Moroccan father: second generation
    ksz_person(4, nationality="139", father="139", mother="139"),   # Polish
    ksz_person(5, father=None),                               # Belgian, father unknown
    ksz_person(6, nationality="000", father="000", mother="000"),   # codes not in the code table
]


def test_origin_category_group_and_generation_under_sem():
    ids = [1, 2, 3, 4, 5, 6, 7]                               # 7 has no KSZ record
    assert persons(["origin_category:sem"], KSZ, ids) == {
        ("belgian_belgian_origin",): 2, ("belgian_foreign_origin",): 1, ("non_belgian",): 1,
        ("undeterminable",): 1, ("unknown",): 2,
    }
    assert persons(["origin_group:sem"], KSZ, ids) == {
        ("belgium",): 2, ("maghreb",): 1, ("eu13",): 1, ("unknown",): 3,
    }
    assert persons(["generation:sem", "sex"], KSZ, ids) == {
        ("none", "F"): 2, ("second_one_parent", "F"): 1, ("first", "F"): 1, ("unknown", "F"): 2,
        ("unknown", "unknown"): 1,
    }


def test_eu_membership_is_decided_on_the_reference_date():
    polish = [ksz_person(1, nationality="139", father="139", mother="139")]
    before = persons(["origin_group:sem:eu"], polish, [1], reference_date=D(2004, 4, 30), period=2003)
    after = persons(["origin_group:sem:eu"], polish, [1], reference_date=D(2004, 5, 1), period=2003)
    assert before == {("non_eu",): 1} and after == {("eu",): 1}


def test_every_category_of_the_definition_is_a_leaf_even_when_empty():
    request = validate_request({
        "authorisation": "A", "population": "vdab", "period": 2022, "measures": ["persons"],
        "dimensions": ["origin_group:sem"], "reference_date": D(2023, 12, 31),
    })
    table = compute(request, linked(vdab=[{"entity_id": 1, "registration_date": D(2022, 1, 1)}], ksz=[]))
    cells = [cell for (cell,) in table["persons"].counts]
    assert cells[0] == "belgium" and "north_america" in cells and cells[-1] == "unknown"
    assert table["persons"].counts[("unknown",)] == 1
