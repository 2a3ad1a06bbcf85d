"""Civic-integration (inburgering) trajectories of newcomers.

Target group: persons born abroad with a non-EU nationality who settled from 2014 on as
adults; ``integration_uptake`` of them sign a contract (EU citizens only rarely, voluntarily).
The contract follows arrival by one to fourteen months. The state of the trajectory depends
on how long ago it started; an attest requires NT2 level A2 or higher and a passed MO test
(domain research 4.5; attest shares are a parameter guess [I]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synth.countries import COUNTRIES
from linkage.synth.population import GEN_FIRST, REFERENCE_DATE, Population

FIRST_ARRIVAL_YEAR = 2014
EU_UPTAKE = 0.06
NT2_LEVELS = np.array(["none", "A1", "A2", "B1", "B2", "C1"], dtype=object)
STATUSES = np.array(["ongoing", "attest", "effort_statement", "stopped", "exempt"], dtype=object)


@dataclass
class IntegrationRecords:
    person: np.ndarray
    contract_date: np.ndarray     # datetime64[D]
    status: np.ndarray
    attest_date: np.ndarray       # datetime64[D], NaT unless attest
    nt2_level: np.ndarray         # "" when not assessed
    mo_test_passed: np.ndarray    # "1", "0" or ""


def _choose(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=1)
    return (cum < (rng.random(len(probs)) * cum[:, -1])[:, None]).sum(axis=1)


def build_integration(pop: Population, uptake: float, rng: np.random.Generator) -> IntegrationRecords:
    end = np.datetime64(REFERENCE_DATE)
    eu = np.array([c.eu for c in COUNTRIES] + [True])[pop.country]
    adult_arrival = pop.arrival_year - pop.birth_year >= 18
    newcomer = (pop.generation == GEN_FIRST) & adult_arrival & (pop.arrival_year >= FIRST_ARRIVAL_YEAR)
    signs = newcomer & (rng.random(pop.n) < np.where(eu, EU_UPTAKE, uptake))
    contract = pop.arrival + 30 + (rng.random(pop.n) * 390).astype(np.int64)
    person = np.flatnonzero(signs & (contract < end))
    contract = contract[person]
    n = len(person)

    years = (end - contract).astype(np.int64) / 365.25
    edu = pop.education[person]
    #                     ongoing attest effort stopped exempt
    probs = np.select(
        [years[:, None] < 1, years[:, None] < 2],
        [np.array([[0.85, 0.00, 0.05, 0.05, 0.05]]), np.array([[0.30, 0.45, 0.08, 0.12, 0.05]])],
        default=np.array([[0.05, 0.62, 0.12, 0.16, 0.05]]),
    )
    probs = probs * np.where(np.arange(5) == 1, np.array([0.8, 1.0, 1.2])[edu][:, None], 1.0)
    status = STATUSES[_choose(rng, probs)]

    attest = status == "attest"
    attest_date = contract + 240 + (rng.random(n) * 480).astype(np.int64)
    attest_date = np.minimum(attest_date, end - 1)
    attest_date = np.where(attest, attest_date, np.datetime64("NaT"))

    level_probs = np.select(
        [attest[:, None], (status == "effort_statement")[:, None], (status == "stopped")[:, None]],
        [np.array([[0, 0, 0.55, 0.30, 0.12, 0.03]]), np.array([[0.3, 0.7, 0, 0, 0, 0]]),
         np.array([[0.5, 0.4, 0.1, 0, 0, 0]])],
        default=np.array([[0.5, 0.35, 0.15, 0, 0, 0]]),
    )
    level = _choose(rng, level_probs)
    # the higher educated reach a higher level: one step up for some of them
    level = np.where((edu == 2) & attest & (rng.random(n) < 0.4), np.minimum(level + 1, 5), level)
    nt2 = np.where(status == "exempt", "", NT2_LEVELS[level]).astype(object)

    mo = np.select(
        [attest, status == "effort_statement", (status == "ongoing") & (rng.random(n) < 0.3),
         status == "stopped"],
        ["1", "0", "1", "0"], default="").astype(object)
    return IntegrationRecords(person, contract, status, attest_date, nt2, mo)


def contract_dates(records: IntegrationRecords, n: int) -> np.ndarray:
    """Contract date per person (NaT for persons without a contract)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    out[records.person] = records.contract_date
    return out
