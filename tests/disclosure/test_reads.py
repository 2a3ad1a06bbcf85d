"""When the joint audit may let a rate's status flip (phantoms): only while no release tells it."""

from __future__ import annotations

from linkage.disclosure.reads import Reads, status_can_flip

POPULATION = "Known(sep_2022)@2022"
COMPLETION = Reads({POPULATION: frozenset({"ksz.sep_2022"}), "started@2022": frozenset({"integration.start"})},
                   status=frozenset({"integration.status"}), cohort=frozenset({POPULATION, "started@2022"}))


def test_a_table_that_does_not_classify_by_the_status_keeps_the_phantoms():
    persons = Reads({POPULATION: frozenset({"ksz.sep_2022"}), "dimension sex@2022": frozenset({"ksz.sex"})})
    assert status_can_flip(COMPLETION, "completion", persons, "")
    assert status_can_flip(COMPLETION, "completion", COMPLETION, "completion")


def test_a_table_by_the_status_or_a_rate_on_it_rules_the_flip_out():
    by_outcome = Reads({POPULATION: frozenset({"ksz.sep_2022"}),
                        "dimension integration_outcome@2022": frozenset({"integration.status"})})
    assert not status_can_flip(COMPLETION, "completion", by_outcome, "")
    other_rate = Reads({POPULATION: frozenset({"ksz.sep_2022"})}, status=frozenset({"integration.status"}))
    assert not status_can_flip(COMPLETION, "completion", other_rate, "attest_rate")


def test_a_condition_of_the_rates_own_cohort_is_kept_by_the_flip():
    """Employment: the population needs a known position, the status reads the same position."""
    employment = Reads({POPULATION: frozenset({"ksz.sep_2022"})}, status=frozenset({"ksz.sep_2022"}),
                       cohort=frozenset({POPULATION}))
    persons = Reads({POPULATION: frozenset({"ksz.sep_2022"})})
    assert status_can_flip(employment, "employment", persons, "")
    by_position = Reads({POPULATION: frozenset({"ksz.sep_2022"}), "dimension sep@2022": frozenset({"ksz.sep_2022"})})
    assert not status_can_flip(employment, "employment", by_position, "")


def test_a_release_recorded_without_reads_is_taken_to_read_everything():
    assert not status_can_flip(COMPLETION, "completion", None, "")
    assert Reads.from_json(COMPLETION.to_json()) == COMPLETION
