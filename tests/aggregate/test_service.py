"""The service: exact counts through disclosure control, margins, ledger and metadata."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
import time

import pytest

from linkage.aggregate.compute import compute
from linkage.aggregate.request import validate_request
from linkage.aggregate.plan import plan
from linkage.aggregate.service import answer_request
from linkage.aggregate import registry
from linkage.disclosure import AeadSealer, AuditUnfinished, LedgerError, PersonLedger
from linkage.disclosure.background import AuditPending, BackgroundAudits

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


def test_small_cells_say_suppressed_and_nothing_else():
    rows = people(600) + [ksz_person(1000 + i, nationality="402", father="402", mother="402",
                                     sep_2022="111") for i in range(2)]   # two North Americans
    answer = answer_request(request(["persons"]), linked(ksz=rows), k=5)
    table = answer.table("persons")
    cell = table.cell(("north_america", "F"))
    assert cell.suppressed and cell.count is None and cell.status == "suppressed"
    hidden = [c for c in table.cells if c.suppressed]
    assert len(hidden) >= 2                                      # not recomputable from margins
    assert {c.status for c in hidden} == {"suppressed"}
    # Why they are hidden is counted for the audit log only, and never serialised.
    assert answer.suppression_reasons["primary"] >= 1
    assert sum(answer.suppression_reasons.values()) == len(hidden)
    sent = answer.to_dict()["tables"][0]["cells"]
    assert all(set(c) == {"key", "count", "numerator", "status"} for c in sent)
    assert table.cell(("Total", "Total")).count == 602


def rate_cells(answer):
    return [(c.key, c.count, c.numerator, c.status) for c in answer.table("employment_rate").cells]


def test_a_suppressed_rate_states_neither_numerator_nor_rate():
    rows = people(600) + [ksz_person(3000 + i, nationality="402", father="402", mother="402",
                                     sep_2022="111") for i in range(3)]   # all three at work
    table = answer_request(request(["employment_rate"]), linked(ksz=rows), k=5).table("employment_rate")
    cell = table.cell(("north_america", "F"))
    assert cell.suppressed and (cell.count, cell.numerator, cell.rate) == (None, None, None)


def test_an_identical_request_is_answered_from_the_sealed_ledger_without_growing_it(tmp_path):
    data = linked(ksz=people(600) + [ksz_person(2000, nationality="402", father="402", mother="402",
                                                sep_2022="111")])
    key = os.urandom(32)
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(key)) as ledger:
        first = answer_request(request(["persons"]), data, k=5, ledger=ledger)
        size = ledger.release_count
        again = answer_request(request(["persons"]), data, k=5, ledger=ledger)
        assert again.to_json() == first.to_json() and ledger.release_count == size == 1
        rates = answer_request(request(["employment_rate"]), data, k=5, ledger=ledger)
        # The rate is audited jointly with the persons table (same persons, other cohort).
        assert rates.table("employment_rate").audit["joint_releases"] == 1
        assert ledger.release_count == 2
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(key)) as reopened:
        assert reopened.release_count == 2
        assert answer_request(request(["persons"]), data, k=5, ledger=reopened).to_json() == first.to_json()
        assert reopened.release_count == 2


def test_the_ledger_at_rest_is_sealed(tmp_path):
    data = linked(ksz=people(600))
    path = tmp_path / "ledger.sqlite"
    with PersonLedger(path, AeadSealer(os.urandom(32))) as ledger:
        answer_request(request(["persons"]), data, k=5, ledger=ledger)
    raw = path.read_bytes()
    assert b"sem_regions" not in raw and b"belgium" not in raw and b"suppressed" not in raw
    with pytest.raises(LedgerError, match="another data key"):
        PersonLedger(path, AeadSealer(os.urandom(32)))


def test_an_audit_past_its_deadline_stops_and_records_nothing(tmp_path):
    data = linked(ksz=people(600))
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(os.urandom(32))) as ledger:
        answer_request(request(["persons"]), data, k=5, ledger=ledger)
        late = request(["employment_rate"])
        with pytest.raises(AuditUnfinished, match="nothing was released or recorded"):
            answer_request(late, data, k=5, ledger=ledger, deadline=time.monotonic() - 1)
        assert ledger.release_count == 1
        answer_request(late, data, k=5, ledger=ledger, deadline=time.monotonic() + 600)
        assert ledger.release_count == 2


def test_metadata_names_versions_rules_and_caveats():
    answer = answer_request(request(["persons"], ["origin_group:serv_eu15", "sex"]), linked(ksz=people(60)), k=5)
    meta = answer.metadata
    assert meta["registry_version"] == registry.REGISTRY_VERSION
    assert set(meta["origin_definitions"]) == {"serv_eu15"}
    assert len(meta["origin_definitions"]["serv_eu15"]["fingerprint"]) == 64
    assert meta["rules_version"] and meta["min_cell_size"] == 5 and meta["authorisation"] == "IVC-24-001"
    assert any("Grandparents are not available" in note for note in meta["notes"])
    assert answer.request["dimensions"] == ["origin_group:serv_eu15:eu15", "sex"]


def test_the_plan_names_the_sources_of_population_measures_and_dimensions():
    req = validate_request({"authorisation": "A", "population": "vdab", "period": 2022,
                            "measures": ["outflow_to_work_12m"], "dimensions": ["integration_outcome", "sex"],
                            "reference_date": D(2024, 12, 31)})
    assert plan(req).sources == {"vdab", "integration", "ksz"}


def _status(measure: str, period: int, population: str = "ksz") -> str:
    req = validate_request({"authorisation": "A", "population": population, "period": period,
                            "measures": [measure], "dimensions": ["sex"],
                            "reference_date": D(2024, 12, 31)})
    return plan(req).statuses[measure]


def _queue_behind_a_turn(ledger, data, asks: dict, meanwhile=None) -> dict:
    """Answers ``asks`` from one thread each, all waiting behind a turn held on the ledger;
    ``meanwhile()`` runs once they all wait (its result under "while waiting")."""
    answers: dict = {}

    def ask(name):
        try:
            answers[name] = answer_request(asks[name], data, k=5, ledger=ledger,
                                           deadline=time.monotonic() + 120)
        except Exception as exc:           # noqa: BLE001 - the test reports it
            answers[name] = exc
    threads = [threading.Thread(target=ask, args=(n,)) for n in asks]
    with ledger.turn():
        for t in threads:
            t.start()
        while len(ledger._pending) < len(asks):
            time.sleep(0.01)
        if meanwhile is not None:
            answers["while waiting"] = meanwhile()
    for t in threads:
        t.join()
    return answers


NEW_TABLES = {"a": (["persons"], ["origin_group:sem", "age_band:broad"]),
              "b": (["persons"], ["sex", "age_band:broad"]),
              "c": (["persons"], ["origin_group:sem:eu15", "sex"])}


def test_a_queue_of_new_tables_is_audited_as_one(tmp_path, monkeypatch):
    """Requests waiting for the turn are taken over by the first to get it: one joint audit
    and one commit for all of them, each answered, nothing answered twice."""
    from linkage.disclosure import release

    together, sizes = release._audit_together, []
    monkeypatch.setattr(release, "_audit_together", lambda batch, *a: sizes.append(len(batch)) or together(batch, *a))
    data = linked(ksz=people(600))
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(os.urandom(32))) as ledger:
        answer_request(request(["persons"]), data, k=5, ledger=ledger)
        asks = {n: request(*a) for n, a in NEW_TABLES.items()}
        answers = _queue_behind_a_turn(ledger, data, asks)
        assert all(not isinstance(a, Exception) for a in answers.values()), answers
        assert sizes == [1, len(asks)] and ledger.release_count == 1 + len(asks)
        again = {n: answer_request(asks[n], data, k=5, ledger=ledger) for n in asks}
        assert {n: [t["cells"] for t in a.to_dict()["tables"]] for n, a in again.items()} == \
            {n: [t["cells"] for t in a.to_dict()["tables"]] for n, a in answers.items()}
        assert ledger.release_count == 1 + len(asks) and sizes == [1, len(asks)]


def test_requests_beyond_those_a_broker_lets_wait_are_told_to_retry(tmp_path):
    """A request waiting for its turn holds a server thread, so only ``max_waiting`` may wait:
    the next gets the retryable error at once and nothing is recorded, while a repeat (no
    audit) is still answered."""
    data = linked(ksz=people(600))
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(os.urandom(32)), max_waiting=2) as ledger:
        first = answer_request(request(["persons"]), data, k=5, ledger=ledger)
        asks = {n: request(*a) for n, a in NEW_TABLES.items()}
        answers = _queue_behind_a_turn(ledger, data, {n: asks[n] for n in "ab"}, lambda: (
            pytest.raises(AuditUnfinished, answer_request, asks["c"], data, k=5, ledger=ledger),
            answer_request(request(["persons"]), data, k=5, ledger=ledger)))
        refused, repeat = answers["while waiting"]
        assert "2 requests are waiting" in str(refused.value) and "ask again" in str(refused.value)
        assert repeat.to_dict() == first.to_dict()
        assert all(not isinstance(answers[n], Exception) for n in "ab"), answers
        assert ledger.release_count == 3
        assert answer_request(asks["c"], data, k=5, ledger=ledger) and ledger.release_count == 4


def test_a_batch_that_cannot_be_released_together_is_audited_request_by_request(tmp_path, monkeypatch):
    from linkage.disclosure import release

    together = release._audit_together
    sizes = []

    def refuse_batches(batch, *args):
        sizes.append(len(batch))
        if len(batch) > 1:
            raise release.ProtectionRefused("not together")
        return together(batch, *args)
    monkeypatch.setattr(release, "_audit_together", refuse_batches)
    data = linked(ksz=people(600))
    with PersonLedger(None, AeadSealer(os.urandom(32))) as ledger:
        answer_request(request(["persons"]), data, k=5, ledger=ledger)
        answers = _queue_behind_a_turn(ledger, data, {n: request(*a) for n, a in NEW_TABLES.items()})
    assert all(not isinstance(a, Exception) for a in answers.values()), answers
    assert sizes[1:] == [3, 1, 1, 1]
    assert ledger.release_count == 4


def test_solving_side_by_side_gives_the_answers_of_one_solver(monkeypatch):
    """The joint audit shares its figures among HiGHS models in threads; which figures hold
    does not depend on who checks them, so every answer is the same as with one model."""
    from linkage.disclosure import joint

    data = linked(ksz=people(150))
    asks = [request(["persons"], dims) for dims in (
        ["origin_group:sem", "sex"], ["origin_group:sem", "age_band:broad"], ["sex", "age_band:ten_year"],
        ["origin_group:sem:eu15", "age_band:ten_year"], ["origin_category:sem", "sex", "age_band:broad"])]
    answers = {}
    for workers in (1, 2):
        monkeypatch.setattr(joint, "WORKERS", workers)
        with PersonLedger(None, AeadSealer(os.urandom(32))) as ledger:
            answers[workers] = [[t["cells"] for t in answer_request(a, data, k=5, ledger=ledger).to_dict()["tables"]]
                                for a in asks]
    assert answers[1] == answers[2]
    assert any(c["status"] == "suppressed" for answer in answers[2] for cells in answer for c in cells)


def test_rates_stating_the_same_fact_of_a_person_share_one_status_name():
    """The employment rate of 2023 and the rate two years after 2021 both read the end-2023
    position: the ledger must flip a person's status in both or in neither."""
    assert _status("employment_rate", 2023) == _status("employment_rate_after_2y", 2021)
    assert _status("employment_rate", 2023) != _status("employment_rate", 2022)
    assert _status("outflow_to_work_6m", 2022, "vdab") != _status("outflow_to_work_12m", 2022, "vdab")


def test_audits_take_turns_and_waiting_counts_towards_the_deadline(tmp_path):
    """Two requesters at once both get their tables, each audited against the other's; a
    request that cannot get its turn before its deadline gets the retryable error."""
    data = linked(ksz=people(600))
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(os.urandom(32))) as ledger:
        answers = {}
        asks = {"a": request(["persons"]), "b": request(["persons"], ["origin_group:sem", "age_band:broad"])}
        threads = [threading.Thread(target=lambda n=n: answers.__setitem__(
            n, answer_request(asks[n], data, k=5, ledger=ledger))) for n in asks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(answers) == {"a", "b"} and ledger.release_count == 2
        with ledger.turn():
            waiting = threading.Thread(target=lambda: answers.__setitem__("late", pytest.raises(
                AuditUnfinished, answer_request, request(["persons"], ["sex", "age_band:broad"]),
                data, k=5, ledger=ledger, deadline=time.monotonic() + 0.2)))
            waiting.start()
            waiting.join()
            # a table of sets shown or hidden before (margins of "a") needs no turn
            margins = answer_request(request(["persons"], ["sex"]), data, k=5, ledger=ledger,
                                     deadline=time.monotonic() + 0.2)
        assert "nothing was released or recorded" in str(answers["late"].value)
        assert margins.table("persons").cell(("Total",)).count == answers["a"].table("persons").cell(
            ("Total", "Total")).count
        assert ledger.release_count == 2


def test_an_audit_in_the_background_outlives_its_call_and_its_limit_counts_from_its_turn(tmp_path):
    """The call past its wait is told the table is being audited; the audit goes on, waiting
    for the turn longer than its limit (which counts from the turn), and the same request asked
    again gets the table the audit recorded: the one an audit in the call would have given."""
    data = linked(ksz=people(600))
    first, late = request(["persons"]), request(["employment_rate"])
    with PersonLedger(None, AeadSealer(os.urandom(32))) as inline:
        answer_request(first, data, k=5, ledger=inline)
        expected = answer_request(late, data, k=5, ledger=inline)
    audits = BackgroundAudits()
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(os.urandom(32))) as ledger:
        answer_request(first, data, k=5, ledger=ledger)
        with ledger.turn():                     # another audit holds the turn
            with pytest.raises(AuditPending, match="being audited"):
                answer_request(late, data, k=5, ledger=ledger, audits=audits, wait=0.05, audit_limit=3)
            time.sleep(3.5)
            assert ledger.release_count == 1 and audits.under_way() == 1
        answer = answer_request(late, data, k=5, ledger=ledger, audits=audits, wait=60, audit_limit=3)
        assert ledger.release_count == 2 and audits.under_way() == 0
        cells = [t["cells"] for t in answer.to_dict()["tables"]]
        assert cells == [t["cells"] for t in expected.to_dict()["tables"]]
        again = answer_request(late, data, k=5, ledger=ledger, audits=audits, wait=0)
        assert [t["cells"] for t in again.to_dict()["tables"]] == cells and ledger.release_count == 2
