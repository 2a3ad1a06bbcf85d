"""``generate``: the synthetic population and its four source extracts, written to a directory.

Output (documented in docs/synth.md): ``ksz.csv``, ``vdab.csv``, ``integration.csv``,
``education.csv`` (identifier columns, then the source's declared payload), ``truth.csv``
(person of every record), ``persons.csv`` (true person-level attributes and payload) and
``summary.json`` (settings, counts). Same persons and seed give byte-identical files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from linkage.errors import LinkageError
from linkage.sources import SEP_YEARS, SOURCES
from linkage.synth import geography
from linkage.synth.config import SynthConfig
from linkage.synth.countries import BELGIUM, COUNTRIES
from linkage.synth.extracts import IDENTIFIER_COLUMNS, SourceRecords, build_records
from linkage.synth.integration import build_integration, contract_dates
from linkage.synth.labour import build_careers, build_vdab
from linkage.synth.names import assign_names
from linkage.synth.output import atomic_directory, check_outdir, write_csv
from linkage.synth.population import REFERENCE_DATE, Population, build_population
from linkage.synth.school import build_school

GENERATOR_VERSION = "1"
MAX_PERSONS = 12_500_000
SOURCE_ORDER = ("ksz", "vdab", "integration", "education")
_STREAMS = ("population", "names", "school", "careers", "integration", "vdab", "coverage",
            "ksz", "vdab_records", "integration_records", "education_records")

Progress = Callable[[str, float], None]


class SynthArgumentError(LinkageError):
    """An argument of the generator is out of range."""


@dataclass(frozen=True)
class SynthSummary:
    outdir: str
    persons: int
    seed: int
    records: dict[str, int]
    duplicates: dict[str, int]
    foreign_origin_share: float
    seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def _iso(dates: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(dates, unit="D").astype(object)
    text[np.isnat(dates)] = ""
    return text


def _person_ids(index, n: int) -> list[str]:
    width = len(str(n))
    return [f"P{i:0{width}d}" for i in index]


def _check_arguments(persons: object, seed: object) -> None:
    if isinstance(persons, bool) or not isinstance(persons, int) or not 1 <= persons <= MAX_PERSONS:
        raise SynthArgumentError(
            f"the number of persons must be a whole number from 1 to {MAX_PERSONS:,}, got {persons!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SynthArgumentError(f"the seed must be a whole number of 0 or more, got {seed!r}")


def _payloads(pop: Population, careers, vdab, integration, school, in_ksz: np.ndarray) -> dict:
    """Per source: (person index per payload row, {column: str array})."""
    nis = geography.municipalities().nis.astype(object)
    ksz_person = np.flatnonzero(in_ksz)
    ksz = {
        "sex": np.where(pop.female, "F", "M").astype(object)[ksz_person],
        "birth_year": pop.birth_year.astype(str).astype(object)[ksz_person],
        "municipality": nis[pop.municipality][ksz_person],
        "nat_current": pop.nat_current[ksz_person], "nat_first": pop.nat_first[ksz_person],
        "nat_first_father": pop.nat_father[ksz_person], "nat_first_mother": pop.nat_mother[ksz_person],
        **{f"sep_{year}": careers.codes(k)[ksz_person] for k, year in enumerate(SEP_YEARS)},
    }
    return {
        "ksz": (ksz_person, ksz),
        "vdab": (vdab.person, {
            "registration_date": _iso(vdab.registration_date), "exit_date": _iso(vdab.exit_date),
            "exit_reason": vdab.exit_reason, "education_level": vdab.education_level}),
        "integration": (integration.person, {
            "contract_date": _iso(integration.contract_date), "status": integration.status,
            "attest_date": _iso(integration.attest_date), "nt2_level": integration.nt2_level,
            "mo_test_passed": integration.mo_test_passed}),
        "education": (school.person, {
            "school_year": school.school_year.astype(str).astype(object), "level": school.level,
            "track": school.track,
            "delay_years": np.where(school.delay < 0, "", school.delay.astype(str)).astype(object),
            "early_leaver": school.early_leaver}),
    }


def _persons_table(pop: Population, names, payloads: dict, careers) -> tuple[list[str], list]:
    generation = np.array(["none", "first", "second"], dtype=object)[pop.generation]
    origin = np.array([c.nis for c in COUNTRIES] + [BELGIUM], dtype=object)[pop.country]
    education = np.array(["low", "medium", "high"], dtype=object)[pop.education]
    header = ["person_id", "insz", "bis_previous", "given_names", "surname", "sex", "birth_date",
              "birth_date_unknown_in_register", "nat_current", "nat_first", "nat_first_father",
              "nat_first_mother", "origin_country", "generation", "arrival_date", "municipality",
              "postcode", "education_attained"]
    arrival = np.where(pop.generation == 1, _iso(pop.arrival), "")
    columns = [
        _person_ids(range(pop.n), pop.n), pop.insz, pop.bis_previous, names.given,
        names.surname, np.where(pop.female, "F", "M"), _iso(pop.birth),
        np.where(pop.birth_uncertain, "1", "0"), pop.nat_current, pop.nat_first, pop.nat_father,
        pop.nat_mother, origin, generation, arrival,
        geography.municipalities().nis[pop.municipality], pop.postcode, education,
    ]
    for k, year in enumerate(SEP_YEARS):
        header.append(f"ksz_sep_{year}")
        columns.append(careers.codes(k))
    for source in SOURCE_ORDER[1:]:
        person, values = payloads[source]
        for name, column in values.items():
            full = np.full(pop.n, "", dtype=object)
            full[person] = column
            header.append(f"{source}_{name}")
            columns.append(full)
    return header, columns


def generate(persons: int, seed: int, outdir: Path, progress: Progress | None = None,
             config: SynthConfig | None = None, force: bool = False) -> SynthSummary:
    """Generate ``persons`` synthetic persons with ``seed`` and write the extracts to
    ``outdir`` (which must be new or empty unless ``force``)."""
    started = time.monotonic()
    _check_arguments(persons, seed)
    outdir = Path(outdir)
    check_outdir(outdir, force)
    config = config or SynthConfig()
    report = progress or (lambda stage, fraction: None)
    rng = {name: np.random.default_rng([seed, k]) for k, name in enumerate(_STREAMS)}

    report("population", 0.0)
    pop = build_population(persons, config.foreign_origin_share, rng["population"])
    report("names", 0.15)
    origin_group = np.array([c.names for c in COUNTRIES] + [""], dtype=object)[pop.country]
    names = assign_names(rng["names"], origin_group, pop.generation, pop.female, pop.birth_year,
                         (pop.nat_father != BELGIUM) & (pop.nat_father != ""),
                         (pop.nat_mother != BELGIUM) & (pop.nat_mother != ""))
    report("careers", 0.3)
    school = build_school(pop, config.education_coverage, rng["school"])
    careers = build_careers(pop, rng["careers"])
    integration = build_integration(pop, config.integration_uptake, rng["integration"])
    vdab = build_vdab(pop, careers, rng["vdab"], contract_dates(integration, pop.n))
    in_ksz = rng["coverage"].random(pop.n) < config.ksz_coverage
    payloads = _payloads(pop, careers, vdab, integration, school, in_ksz)

    records: dict[str, SourceRecords] = {}
    for k, source in enumerate(SOURCE_ORDER):
        report(f"{source} records", 0.4 + 0.1 * k)
        person, _ = payloads[source]
        stream = rng["ksz"] if source == "ksz" else rng[f"{source}_records"]
        records[source] = build_records(source, person, pop, names, config.noise[source], stream)

    report("writing", 0.8)
    with atomic_directory(outdir) as staging:
        truth_person: list[str] = []
        truth_source: list[str] = []
        truth_record: list[str] = []
        for source in SOURCE_ORDER:
            rec = records[source]
            _, values = payloads[source]
            payload_names = [a.name for a in SOURCES[source].payload if a.name not in IDENTIFIER_COLUMNS]
            header = [*rec.columns, *payload_names]
            columns = list(rec.columns.values())
            columns += [values[name][rec.payload_row] for name in payload_names]
            write_csv(staging / f"{source}.csv", header, columns)
            truth_person.extend(_person_ids(rec.person.tolist(), pop.n))
            truth_source.extend([source] * len(rec.person))
            truth_record.extend(rec.columns["record_id"])
        write_csv(staging / "truth.csv", ["person_id", "source", "record_id"],
                  [truth_person, truth_source, truth_record])
        report("writing", 0.9)
        header, columns = _persons_table(pop, names, payloads, careers)
        write_csv(staging / "persons.csv", header, columns)
        counts = {s: len(records[s].person) for s in SOURCE_ORDER}
        duplicates = {s: counts[s] - len(np.unique(records[s].person)) for s in SOURCE_ORDER}
        foreign_share = round(float((pop.country >= 0).mean()), 4)
        meta = {
            "generator_version": GENERATOR_VERSION, "reference_date": REFERENCE_DATE.isoformat(),
            "persons": persons, "seed": seed, "records": counts, "duplicates": duplicates,
            "foreign_origin_share": foreign_share, "config": config.to_json(),
        }
        (staging / "summary.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    report("done", 1.0)
    return SynthSummary(str(outdir), persons, seed, counts, duplicates, foreign_share,
                        round(time.monotonic() - started, 2))
