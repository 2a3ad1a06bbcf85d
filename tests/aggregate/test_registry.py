"""The registry is consistent with the payload declarations, and catches its own mistakes."""

import pytest

from linkage.aggregate import registry
from linkage.aggregate.conditions import (
    AtLeast, Attr, InPeriod, IsTrue, Known, OneOf, RegistryError, WithinMonths,
)
from linkage.sources import SOURCES


def test_the_registry_validates():
    registry.validate_registry()


def test_every_declared_payload_attribute_is_needed_and_nothing_else():
    # Data minimisation: an extract carries exactly what some measure or dimension reads.
    needed = registry.needed_attributes()
    for source, spec in SOURCES.items():
        assert needed[source] == {a.name for a in spec.payload}, source


def test_rates_have_numerators_and_counts_do_not():
    for m in registry.MEASURES.values():
        assert (m.kind == "rate") == bool(m.numerator), m.name


def test_required_measures_are_registered():
    names = set(registry.MEASURES)
    assert {"persons", "employment_rate", "integration_completion_rate", "nt2_a2_or_higher_rate",
            "school_delay_rate", "early_leaving_rate"} <= names
    assert {f"outflow_to_work_{m}m" for m in (6, 12, 18, 24, 30)} <= names


@pytest.mark.parametrize("condition, message", [
    (OneOf(Attr("vdab", "exit_reason"), ("holiday",)), "no value"),
    (IsTrue(Attr("vdab", "registration_date")), "declared as date"),
    (AtLeast(Attr("ksz", "sex"), 1), "declared as category"),
    (Known(Attr("vdab", "salary")), "does not deliver 'salary'"),
    (Known(Attr("police", "record")), "unknown source"),
    (WithinMonths(Attr("vdab", "exit_reason"), Attr("vdab", "exit_date"), 6), "needs date"),
    (InPeriod(Attr("ksz", "sex")), "declared as category"),
])
def test_conditions_refuse_what_the_declarations_do_not_allow(condition, message):
    with pytest.raises(RegistryError, match=message):
        condition.check(2022)


def test_a_year_template_resolves_to_the_delivered_year_only():
    sep = Attr("ksz", "sep_{year}", 2)
    Known(sep).check(2022)  # sep_2024 is delivered
    with pytest.raises(RegistryError, match="sep_2025"):
        Known(sep).check(2023)


def test_a_broken_measure_is_reported_with_its_name(monkeypatch):
    broken = registry.Measure("broken", "Broken", "", "rate", ("vdab",),
                              numerator=(IsTrue(Attr("vdab", "exit_date")),))
    monkeypatch.setitem(registry.MEASURES, "broken", broken)
    with pytest.raises(RegistryError, match="broken.*declared as date"):
        registry.validate_registry()


@pytest.mark.parametrize("name", sorted(registry.AGE_BAND_SETS))
def test_age_bands_start_at_zero_and_increase(name):
    bounds = registry.AGE_BAND_SETS[name]
    assert bounds[0] == 0 and list(bounds) == sorted(set(bounds))
    labels = registry.age_band_labels(name)
    assert len(labels) == len(bounds) and labels[-1] == f"{bounds[-1]}+"


def test_unknown_names_list_the_known_ones():
    with pytest.raises(RegistryError, match="known measures are persons, employment_rate"):
        registry.measure("unemployment")
    with pytest.raises(RegistryError, match=r"origin_group:<definition>\[:<grouping>\]"):
        registry.dimension_kind("religion")
    with pytest.raises(RegistryError, match="ksz, vdab, integration, education"):
        registry.population("police")
