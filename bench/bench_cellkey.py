"""Cell-key perturbation weighed against the release ledger over persons (issue 20, step 5).

    .venv/bin/python bench/bench_cellkey.py          # every attack scenario
    BENCH_QUICK=1 .venv/bin/python bench/bench_cellkey.py

Every request of the attack suite (tests/attack/scenarios.py; its population of 12,000 persons,
seed 909, two runs, k = 5) is answered four ways:

* ``ledger``: what the broker does: suppression per table, audited jointly with every earlier
  release over the persons it counts (the person ledger);
* ``ledger+noise``: the same answers, every published figure perturbed by cell key;
* ``per table``: suppression per table only, no ledger (what protection was before the ledger);
* ``per table+noise``: that, perturbed by cell key: "suppression, and noise so that
  differencing yields noise rather than counts".

Cell keys (ABS TableBuilder, ONS census 2021): each unit (person and period) gets a 32-bit record
key from a keyed hash of its person key; a cell's key is the sum of its units' keys mod 2**32,
so the same persons always get the same noise, and the noise is drawn by that key from the
perturbation table of ``linkage.disclosure.cellkey`` (noise in -D..D, mean 0, variance V, no
published figure pushed below k). The stated noise bound D goes into the answer, as it must.

For each way it prints: requests refused, released cells hidden, the error of the published
figures against the truth, the time to answer, and the two attackers over all releases of a
scenario jointly: the suite's LP/MIP attacker (every published figure within +-D, every
hidden figure bounded; tests/attack/attacker.py) and an averaging attacker, which estimates by
least squares, from every published figure at once, each small group the exact figures would
give away (all routes to it averaged), and counts the estimates that round to the truth.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from linkage.aggregate.compute import LinkedData, evaluate  # noqa: E402
from linkage.aggregate.plan import plan  # noqa: E402
from linkage.aggregate.request import validate_request  # noqa: E402
from linkage.aggregate.service import answer_request  # noqa: E402
from linkage.disclosure import DisclosureError, ReleaseLedger  # noqa: E402
from linkage.disclosure.atoms import mix64  # noqa: E402
from linkage.disclosure.cellkey import MODULUS, PerturbationTable  # noqa: E402
from linkage.disclosure.table import Dimension, TableStructure  # noqa: E402

from tests.attack.attacker import Finding, attack  # noqa: E402
from tests.attack.model import AtomModel  # noqa: E402
from tests.attack.population import attack_runs  # noqa: E402
from tests.attack.releases import from_answer  # noqa: E402
from tests.attack.scenarios import SCENARIOS  # noqa: E402
from tests.attack.service import K, Ask  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
QUICK_SCENARIOS = ("five_vs_ten_year_bands", "nested_cohort_denominators", "origin_definitions",
                   "two_runs_with_newcomers", "geography_levels")
MAX_NOISE = int(os.environ.get("CELLKEY_D", "2"))
VARIANCE = float(os.environ.get("CELLKEY_V", "1.0"))
RECORD_KEY_SECRET = np.uint64(0x5EC2E7C0FFEE1234)
"""Stands for the broker's secret: the attacker knows neither it nor the record keys."""
WAYS = ("ledger", "ledger+noise", "per table", "per table+noise")


def answers(asks: Sequence[Ask], runs: Mapping[str, LinkedData], ledger: ReleaseLedger | None
            ) -> tuple[list[tuple[Ask, dict]], int, float]:
    """Every request answered in turn (through one ledger, if given); refusals counted."""
    out, refused, started = [], 0, time.perf_counter()
    for ask in asks:
        request = validate_request({"authorisation": f"AUTH-{ask.requester}", **ask.request})
        try:
            out.append((ask, answer_request(request, runs[ask.run], k=K, ledger=ledger).to_dict()))
        except DisclosureError:
            refused += 1
    return out, refused, time.perf_counter() - started


def _cell_keys(structure: TableStructure, leaf: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per cell, the sum of its units' record keys mod 2**32."""
    with np.errstate(over="ignore"):
        record = mix64(units.astype(np.uint64) ^ RECORD_KEY_SECRET) >> np.uint64(32)
    inner = np.bincount(leaf, weights=record.astype(np.float64), minlength=structure.n_inner)
    inner = (inner.astype(np.int64) % MODULUS)            # exact: < 2**32 * units < 2**53
    return np.asarray(structure.A.astype(np.int64) @ inner, dtype=np.int64) % MODULUS


def perturbed(answer: dict, data: LinkedData, ptable: PerturbationTable) -> dict:
    """The answer with every published count and numerator perturbed by cell key."""
    out = copy.deepcopy(answer)
    evaluated = evaluate(plan(validate_request(answer["request"])), data)
    for table in out["tables"]:
        e = evaluated[table["measure"]]
        structure = TableStructure(tuple(Dimension(d.name, d.categories) for d in e.leaf.dimensions))
        m = e.membership
        den = _cell_keys(structure, m.leaf, m.units)
        num = _cell_keys(structure, m.leaf[m.flag], m.units[m.flag]) if m.flag is not None else None
        for cell in table["cells"]:
            if cell["status"] != "published" or cell.get("count") is None:
                continue
            c = structure.index(cell["key"])
            cell["count"] += ptable.noise_for(cell["count"], int(den[c]))
            if cell.get("numerator") is not None and num is not None:
                numerator = cell["numerator"] + ptable.noise_for(cell["numerator"], int(num[c]))
                cell["numerator"] = min(numerator, cell["count"])
    out["metadata"]["perturbation"] = {"bound": ptable.max_noise}
    return out


def errors(exact: Sequence[dict], noisy: Sequence[dict]) -> tuple[list[int], list[float]]:
    """Absolute errors of published counts, and of published rates in percentage points."""
    counts, rates = [], []
    for a, b in zip(exact, noisy):
        for ta, tb in zip(a["tables"], b["tables"]):
            for ca, cb in zip(ta["cells"], tb["cells"]):
                if ca["status"] != "published" or ca.get("count") is None:
                    continue
                counts.append(abs(cb["count"] - ca["count"]))
                if ca.get("numerator") is not None and ca["count"]:
                    rates.append(abs(100 * cb["numerator"] / max(cb["count"], 1)
                                     - 100 * ca["numerator"] / ca["count"]))
    return counts, rates


def averaging_attack(releases, exposed: Sequence[Finding]) -> tuple[int, int]:
    """Least-squares estimates, from every published (noisy) figure at once, of the groups the
    exact figures pin down; returns how many there are and how many round to the truth."""
    if not exposed:
        return 0, 0
    model = AtomModel(releases)
    rows, values = [], []
    for figure in model.figures():
        value = model.released_value(figure)
        if value is not None and figure.what != "complement":
            rows.append(model.row(figure))
            values.append(value)
    solution = np.linalg.lstsq(np.asarray(rows, dtype=np.float64), np.asarray(values, dtype=np.float64),
                               rcond=None)[0]
    hits = sum(int(round(float(f.row @ solution))) == f.truth for f in exposed)
    return len(exposed), hits


def pinned_groups(outcome) -> list[Finding]:
    """Small groups the exact figures give away: pinned hidden figures, derived differences."""
    return [f for f in outcome.broken if f.pinned and f.row is not None] + list(outcome.derived)


def run_scenario(name: str, runs, folder: Path, ptable: PerturbationTable) -> dict[str, Counter]:
    asks = SCENARIOS[name].asks
    figures: dict[str, Counter] = {way: Counter() for way in WAYS}
    for base, ledger_file in (("ledger", folder / f"{name}.sqlite"), ("per table", None)):
        ledger = ReleaseLedger(ledger_file) if ledger_file else None
        try:
            exact, refused, seconds = answers(asks, runs, ledger)
        finally:
            if ledger is not None:
                ledger.close()
        started = time.perf_counter()
        noisy = [(ask, perturbed(answer, runs[ask.run], ptable)) for ask, answer in exact]
        perturb_seconds = time.perf_counter() - started
        exposed: list[Finding] = []
        for way, answered, extra in ((base, exact, 0.0), (f"{base}+noise", noisy, perturb_seconds)):
            releases = [from_answer(a, ask.requester, ask.run, k=K) for ask, a in answered]
            outcome = attack(releases, runs, denoise=False)
            if way == base:
                exposed = pinned_groups(outcome)
            cells = [c for _, a in answered for t in a["tables"] for c in t["cells"]]
            counts, rates = errors([a for _, a in exact], [a for _, a in answered])
            total, hits = averaging_attack(releases, exposed)
            figures[way].update(
                requests=len(asks), refused=refused, cells=len(cells),
                hidden=sum(c["status"] != "published" for c in cells),
                abs_error=sum(counts), published=len(counts), changed=sum(e > 0 for e in counts),
                rate_error_x1000=round(1000 * sum(rates)), rates=len(rates),
                narrowed=len(outcome.broken), derived=len(outcome.derived),
                exposed=total, recovered=hits, millis=round(1000 * (seconds + extra)))
    return figures


def report(name: str, figures: Mapping[str, Counter]) -> None:
    print(f"\n{name}")
    print(f"  {'way':<17}{'refused':>8}{'hidden':>15}{'mean |error|':>13}{'changed':>9}"
          f"{'rate err pp':>12}{'narrowed':>9}{'derived':>8}{'averaged':>11}{'ms/request':>11}")
    for way, f in figures.items():
        hidden = f"{f['hidden']}/{f['cells']} {100 * f['hidden'] / max(f['cells'], 1):.1f}%"
        error = f["abs_error"] / max(f["published"], 1)
        changed = 100 * f["changed"] / max(f["published"], 1)
        rate = f["rate_error_x1000"] / 1000 / max(f["rates"], 1)
        averaged = f"{f['recovered']}/{f['exposed']}"
        per_request = f["millis"] / max(f["requests"] - f["refused"], 1)
        print(f"  {way:<17}{f['refused']:>4}/{f['requests']:<3}{hidden:>15}{error:>13.2f}{changed:>8.1f}%"
              f"{rate:>12.2f}{f['narrowed']:>9}{f['derived']:>8}{averaged:>11}{per_request:>11.0f}")


def main() -> None:
    names = QUICK_SCENARIOS if QUICK else tuple(SCENARIOS)
    ptable = PerturbationTable.build(MAX_NOISE, VARIANCE, floor=K)
    print(f"cell-key perturbation: D = {MAX_NOISE}, V = {VARIANCE}, floor k = {K}; "
          f"{len(names)} attack scenarios")
    total = {way: Counter() for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        runs = attack_runs(Path(tmp) / "population")
        for name in names:
            figures = run_scenario(name, runs, Path(tmp), ptable)
            report(name, figures)
            for way in WAYS:
                total[way].update(figures[way])
    report("all scenarios", total)
    print("\nnarrowed: hidden figures the LP/MIP attacker bounds below [a-1, a+1]; derived: small "
          "groups as the difference of two published figures (within their noise bounds); "
          "averaged: small groups the exact figures give away that the least-squares estimate "
          "from the noisy figures recovers exactly")


if __name__ == "__main__":
    main()
