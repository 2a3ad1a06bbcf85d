"""The policy file and the pure authorisation decisions (deny by default)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.policy import (
    PolicyError,
    PolicyStore,
    authorise_audit,
    authorise_info,
    authorise_run,
    authorise_run_read,
    authorise_statistics,
    authorise_upload,
    example_policy,
    parse_policy,
)
from server.pki import DEFAULT_ORGANISATIONS

POLICY = """
auditors = ["auditor"]
run_operators = ["operator"]

[uploads]
ksz = ["ksz"]
vdab = ["vdab"]

[[authorisations]]
id = "IVC-24-001"
holder = "statistics"
purpose = "origin gap in employment"
sources = ["ksz", "vdab"]
measures = ["persons", "employment_rate"]
dimensions = ["origin_group", "sex:binary"]
valid_from = 2024-01-01
valid_until = 2025-12-31
min_cell_size = 10
period_from = 2019
period_until = 2023
"""
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def policy():
    return parse_policy(POLICY)


def _stats(policy, **changes):
    request = dict(organisation="statistics", authorisation_id="IVC-24-001", sources=["ksz", "vdab"],
                   measures=["employment_rate"], dimensions=["origin_group:sem", "sex:binary"],
                   periods=[2022], today=TODAY)
    request.update(changes)
    return authorise_statistics(policy, **request)


def test_uploads_only_own_source(policy):
    assert authorise_upload(policy, "ksz", "ksz").allowed
    refused = authorise_upload(policy, "vdab", "ksz")
    assert not refused.allowed and "only source(s) vdab" in refused.reason
    assert not authorise_upload(policy, "statistics", "ksz").allowed
    assert "not named in the broker policy" in authorise_upload(policy, "nobody", "ksz").reason


def test_roles(policy):
    assert authorise_run(policy, "operator").allowed
    assert not authorise_run(policy, "auditor").allowed
    assert authorise_run_read(policy, "auditor").allowed
    assert not authorise_run_read(policy, "ksz").allowed
    assert authorise_audit(policy, "auditor").allowed
    assert not authorise_audit(policy, "statistics").allowed
    assert authorise_info(policy, "ksz").allowed and not authorise_info(policy, "nobody").allowed


def test_statistics_granted_within_the_authorisation(policy):
    decision = _stats(policy)
    assert decision.allowed and decision.authorisation.min_cell_size == 10


@pytest.mark.parametrize("changes, reason", [
    ({"authorisation_id": "IVC-99-999"}, "holds no authorisation"),
    ({"organisation": "ksz"}, "holds no authorisation"),
    ({"sources": ["ksz", "education"]}, "does not cover source(s) education"),
    ({"measures": ["early_leaving_rate"]}, "does not cover measure(s) early_leaving_rate"),
    ({"dimensions": ["sex:other"]}, "does not cover dimension(s) sex:other"),
    ({"today": dt.date(2026, 1, 1)}, "expired on 2025-12-31"),
    ({"today": dt.date(2023, 12, 31)}, "takes effect on 2024-01-01"),
    ({"periods": [2018]}, "not 2018"),
])
def test_statistics_refusals_say_why(policy, changes, reason):
    decision = _stats(policy, **changes)
    assert not decision.allowed
    assert reason in decision.reason


def test_dimension_kind_grants_every_variant_but_a_variant_grants_only_itself(policy):
    assert _stats(policy, dimensions=["origin_group:statbel"]).allowed
    assert not _stats(policy, dimensions=["sex"]).allowed


@given(st.text(min_size=1, max_size=12), st.sampled_from(["ksz", "vdab", "integration", "education"]))
def test_deny_by_default_for_any_unknown_organisation(organisation, source):
    policy = parse_policy(POLICY)
    if organisation in policy.organisations():
        return
    assert not authorise_upload(policy, organisation, source).allowed
    assert not authorise_run(policy, organisation).allowed
    assert not authorise_audit(policy, organisation).allowed
    assert not authorise_statistics(policy, organisation, "IVC-24-001", [], [], [], [], TODAY).allowed


@pytest.mark.parametrize("text, message", [
    ("auditor = ['x']", "unknown key(s) auditor"),
    ("[uploads]\nksz = ['nosuch']", "unknown source(s) nosuch"),
    ("[uploads]\nksz = ['ksz']\nother = ['ksz']", "granted to both"),
    ("[uploads]\nksz = 'ksz'", "must be a list of names"),
    ("[[authorisations]]\nid = 'A'", "lacks"),
    ("x = [", "not valid TOML"),
])
def test_malformed_policies_are_refused_with_the_entry_named(text, message):
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(text)


def test_authorisation_dates_and_cell_size_are_checked():
    broken = POLICY.replace("valid_until = 2025-12-31", "valid_until = 2023-12-31")
    with pytest.raises(PolicyError, match="valid_until lies before valid_from"):
        parse_policy(broken)
    with pytest.raises(PolicyError, match="min_cell_size"):
        parse_policy(POLICY.replace("min_cell_size = 10", "min_cell_size = 0"))
    with pytest.raises(PolicyError, match="appear twice"):
        parse_policy(POLICY + POLICY[POLICY.index("[[authorisations]]"):])


def test_hash_changes_with_content():
    assert parse_policy(POLICY).sha256 != parse_policy(POLICY + "\n").sha256


def test_store_keeps_the_last_good_policy(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    store = PolicyStore(path)
    first = store.current
    path.write_text("this is = [not toml")
    assert store.changed_on_disk()
    with pytest.raises(PolicyError):
        store.reload()
    assert store.current is first
    path.write_text(POLICY.replace('vdab = ["vdab"]', 'vdab = ["vdab", "education"]'))
    previous, current = store.reload()
    assert previous is first and "education" in current.uploads["vdab"]


@pytest.mark.parametrize("role", ["run_operators", "auditors"])
def test_a_requester_may_not_also_read_runs_or_the_log(role):
    """Run quality figures and the log's counts per release are not protected against
    differencing with tables, so a holder of an authorisation may not read them."""
    mixed = POLICY.replace(f'{role} = ["{"operator" if role == "run_operators" else "auditor"}"]',
                           f'{role} = ["statistics"]')
    assert mixed != POLICY
    with pytest.raises(PolicyError, match=r"'statistics' holds authorisation IVC-24-001 and is also"):
        parse_policy(mixed)


def test_the_example_policy_keeps_requester_operator_and_auditor_apart():
    policy = parse_policy(example_policy(DEFAULT_ORGANISATIONS))
    holders = {grant.holder for grant in policy.authorisations}
    assert holders == {"statistics"}
    assert policy.run_operators == {"operator"} and policy.auditors == {"auditor"}
