"""Issue 9, example 5: a run's quality figures (``linkage runs --json``) against their own
totals. The attacker holds them only if a requester of tables may read runs under the
example policy; then no withheld figure may be narrowed below [a-1, a+1]."""

from __future__ import annotations

import copy
import datetime as dt

from server import pki
from server.policy import example_policy, parse_policy

from tests.attack.quality import attack_quality, figures_of, withheld_figures

REFERENCE = dt.date(2024, 12, 31)


def _requesters_reading_runs() -> set[str]:
    policy = parse_policy(example_policy(pki.DEFAULT_ORGANISATIONS))
    holders = {a.holder for a in policy.authorisations}
    return holders & (policy.run_operators | policy.auditors)


def test_quality_figures_reveal_no_withheld_figure(runs):
    published, truth = figures_of(runs["run-2"], REFERENCE), figures_of(runs["run-2"], REFERENCE, withhold=False)
    readers = _requesters_reading_runs()
    found = attack_quality(published, truth) if readers else []
    print(f"quality figures: readable by requesters {sorted(readers)}; withheld "
          f"{withheld_figures(published)}; narrowed {len(found)} (pinned {sum(f.pinned for f in found)})")
    assert not found, "\n".join(f"{f.what}: true {f.truth}, attacker [{f.low}, {f.high}]" for f in found[:8])


def test_the_quality_attacker_pins_a_figure_withheld_alone(runs):
    """The attack is real: withhold one more figure of a published run and the attacker,
    holding its source's links, pins it by difference; without the totals it cannot."""
    truth = figures_of(runs["run-2"], REFERENCE, withhold=False)
    published = copy.deepcopy(truth)
    by_category = published["origin"]["linked_to_ksz_by_origin"]["vdab"]
    category = max(by_category, key=lambda c: by_category[c]["linked"])
    by_category[category]["linked"] = by_category[category]["linked_rate"] = None
    found = attack_quality(published, truth)
    assert [f.what for f in found] == [f"vdab/{category}/linked"] and found[0].pinned
    blind = {**published, "pairs": {}}
    assert not any(f.pinned for f in attack_quality(blind, truth))
