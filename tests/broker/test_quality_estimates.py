"""The recall estimated without truth in a run's quality figures: small origin groups withheld."""

from __future__ import annotations

from server.quality import MIN_COUNT, estimated_recall, run_quality


def _engine(strata: dict) -> dict:
    return {"pairs": [{"sources": ["vdab", "ksz"], "estimated_recall": {
        "recall": 0.995, "expected_pairs": 1200.4, "expected_found": 1194.4,
        "by_stratum": {"side": "ksz", "strata": strata, "gap": 0.02, "gap_warning": True}}}]}


def test_groups_expected_to_hold_few_persons_are_withheld_and_the_gap_is_flagged():
    strata = {"belgium": {"expected_pairs": 1100.0, "expected_found": 1099.0, "recall": 0.9991},
              "maghreb": {"expected_pairs": 100.0, "expected_found": 97.0, "recall": 0.97},
              "north_america": {"expected_pairs": MIN_COUNT - 0.6, "expected_found": 9.0, "recall": 0.958}}
    figures = estimated_recall(_engine(strata))["ksz~vdab"]
    assert figures["recall"] == 0.995 and figures["expected_pairs"] == 1200
    assert figures["by_origin"] == {"belgium": 0.9991, "maghreb": 0.97, "north_america": None}
    assert figures["gap_warning"] and figures["by_origin_of"] == "ksz"


def test_the_engine_figures_keep_no_unprotected_copy_of_the_groups():
    strata = {"north_america": {"expected_pairs": 3.0, "expected_found": 3.0, "recall": 1.0}}
    quality = run_quality(["ksz", "vdab"], [], _engine(strata), {}, __import__("datetime").date(2025, 1, 1))
    assert "north_america" not in str(quality["engine"])
    assert quality["estimated_recall"]["ksz~vdab"]["by_origin"] == {"north_america": None}


def test_a_pair_without_an_estimate_says_why():
    engine = {"pairs": [{"sources": ["vdab", "education"], "estimated_recall": {
        "recall": None, "reason": "only 2% of the open vdab records are expected to have a partner"}}]}
    assert estimated_recall(engine)["education~vdab"] == {
        "recall": None, "reason": "only 2% of the open vdab records are expected to have a partner"}
