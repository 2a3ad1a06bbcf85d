"""The registry of populations, measures and dimensions a statistician may request.

Everything a request can name is listed here, as versioned data, because free-form filters
make differencing attacks easy: two tables that differ by one person reveal that person.
A measure names the populations it applies to, its cohort (denominator) and, for a rate,
its numerator, as conditions over payload attributes (:mod:`linkage.aggregate.conditions`);
a dimension names how a category is derived. Changing anything here that changes a figure
changes ``REGISTRY_VERSION``, which every answer carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from linkage.aggregate.conditions import (
    AgeBetween,
    AtLeast,
    Attr,
    Condition,
    InPeriod,
    IsTrue,
    Known,
    Not,
    OneOf,
    RegistryError,
    WithinMonths,
)
from linkage.sources import SEP_CODES, SEP_YEARS, SOURCES

REGISTRY_VERSION = "1"

MAX_DIMENSIONS = 4
"""More dimensions make cells smaller and tables easier to difference; four is what the
statistics service needs (origin x sex x age x region)."""

MAX_PERIODS = 6

UNKNOWN = "unknown"
"""The category of a person whose attribute is missing or who has no linked record in the
source the attribute comes from."""


@dataclass(frozen=True)
class Population:
    source: str
    label: str
    period_filter: Condition
    period_words: str
    first_period: int
    last_period: int


POPULATIONS: dict[str, Population] = {
    p.source: p
    for p in (
        Population("ksz", "residents in the KSZ data warehouse",
                   Known(Attr("ksz", "sep_{year}")),
                   "with a socio-economic position on 31 December of the period year",
                   SEP_YEARS[0], SEP_YEARS[-1]),
        Population("vdab", "VDAB job seekers",
                   InPeriod(Attr("vdab", "registration_date")),
                   "registered as job seeker without work in the period year", 2000, 2100),
        Population("integration", "civic-integration participants",
                   InPeriod(Attr("integration", "contract_date")),
                   "who signed an integration contract in the period year", 2000, 2100),
        Population("education", "pupils in Flemish education",
                   InPeriod(Attr("education", "school_year")),
                   "whose last school year in Flemish education started in the period year",
                   2000, 2100),
    )
}

AT_WORK = tuple(code for code in SEP_CODES if code.startswith("1"))
"""KSZ nomenclature class 1xx: employee, self-employed, helper or a combination."""

NT2_A2_OR_HIGHER = ("A2", "B1", "B2", "C1", "C2")
OUTFLOW_HORIZONS = (6, 12, 18, 24, 30)


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    description: str
    kind: Literal["count", "rate"]
    populations: tuple[str, ...]
    cohort: tuple[Condition, ...] = ()
    numerator: tuple[Condition, ...] = ()
    horizon_months: int = 0
    """The outcome is observed up to this many months after the end of the period year; a
    request whose reference date comes earlier is refused (the outcome is not yet known)."""

    def conditions(self) -> tuple[Condition, ...]:
        return self.cohort + self.numerator

    def attributes(self, period: int) -> set[tuple[str, str]]:
        return {(a.source, a.resolve(period)) for c in self.conditions() for a in c.attrs()}


def _employment(name: str, label: str, offset: int) -> Measure:
    sep = Attr("ksz", "sep_{year}", offset)
    when = "31 December of the period year" + (f" {offset:+d} years" if offset else "")
    return Measure(
        name, label,
        f"Share at work (KSZ socio-economic position 1xx: employee, self-employed or helper) "
        f"on {when}, among persons aged 20-64 then with a known position.",
        "rate", tuple(SOURCES),
        cohort=(AgeBetween(20, 64, offset), Known(sep)),
        numerator=(OneOf(sep, AT_WORK),),
    )


def _outflow(months: int) -> Measure:
    start, end = Attr("vdab", "registration_date"), Attr("vdab", "exit_date")
    return Measure(
        f"outflow_to_work_{months}m", f"Outflow to work within {months} months",
        f"Share of job seekers registered in the period year whose registration ended with "
        f"exit reason 'work' at most {months} calendar months after the registration date.",
        "rate", ("vdab",),
        numerator=(OneOf(Attr("vdab", "exit_reason"), ("work",)), WithinMonths(start, end, months)),
        horizon_months=months,
    )


_NOT_EXEMPT = Not(OneOf(Attr("integration", "status"), ("exempt",)))
_SCHOOL_DELAY_SCOPE = Not(OneOf(Attr("education", "track"), ("okan", "dbso")))

MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("persons", "Persons", "Number of persons in the population.", "count", tuple(SOURCES)),
        _employment("employment_rate", "Employment rate (20-64)", 0),
        _employment("employment_rate_after_2y", "Employment rate (20-64) two years later", 2),
        *(_outflow(months) for months in OUTFLOW_HORIZONS),
        Measure(
            "integration_completion_rate", "Civic-integration completion",
            "Share of integration contracts (signed in the period year, exemptions left out) "
            "that ended with the integration certificate (attest).",
            "rate", ("integration",),
            cohort=(_NOT_EXEMPT, Known(Attr("integration", "status"))),
            numerator=(OneOf(Attr("integration", "status"), ("attest",)),),
        ),
        Measure(
            "integration_attest_24m_rate", "Civic-integration certificate within 24 months",
            "Share of integration contracts (signed in the period year, exemptions left out) "
            "with the integration certificate dated at most 24 months after the contract.",
            "rate", ("integration",),
            cohort=(_NOT_EXEMPT, Known(Attr("integration", "status"))),
            numerator=(OneOf(Attr("integration", "status"), ("attest",)),
                       WithinMonths(Attr("integration", "contract_date"),
                                    Attr("integration", "attest_date"), 24)),
            horizon_months=24,
        ),
        Measure(
            "mo_test_pass_rate", "Social-orientation test passed",
            "Share of integration participants with a known social-orientation (MO) test "
            "result who passed it (exemptions left out).",
            "rate", ("integration",),
            cohort=(_NOT_EXEMPT, Known(Attr("integration", "mo_test_passed"))),
            numerator=(IsTrue(Attr("integration", "mo_test_passed")),),
        ),
        Measure(
            "nt2_a2_or_higher_rate", "Dutch (NT2) at A2 or higher",
            "Share of integration participants (exemptions left out) whose highest certified "
            "Dutch level is A2 or higher (CEFR).",
            "rate", ("integration",),
            cohort=(_NOT_EXEMPT, Known(Attr("integration", "nt2_level"))),
            numerator=(OneOf(Attr("integration", "nt2_level"), NT2_A2_OR_HIGHER),),
        ),
        Measure(
            "school_delay_rate", "School delay",
            "Share of pupils at least one year behind the grade expected from their birth "
            "year, in ordinary primary and secondary education (okan and dbso left out, as in "
            "Statistiek Vlaanderen's 'schoolse vorderingen').",
            "rate", ("education",),
            cohort=(_SCHOOL_DELAY_SCOPE, Known(Attr("education", "delay_years"))),
            numerator=(AtLeast(Attr("education", "delay_years"), 1),),
        ),
        Measure(
            "early_leaving_rate", "Early school leaving",
            "Share of leavers of secondary education who left without a qualification: "
            "early leavers / (early leavers + qualified leavers); pupils still in school are "
            "not in the cohort.",
            "rate", ("education",),
            cohort=(Known(Attr("education", "early_leaver")),),
            numerator=(IsTrue(Attr("education", "early_leaver")),),
        ),
    )
}


AGE_BAND_SETS: dict[str, tuple[int, ...]] = {
    "labour": (0, 20, 30, 40, 50, 65),
    "broad": (0, 25, 50, 65),
    "ten_year": (0, 10, 20, 30, 40, 50, 60, 70, 80),
    "five_year": tuple(range(0, 90, 5)),
    "school": (0, 12, 15, 18, 25),
}
"""Lower bounds of each band; a band runs to the next bound minus one, the last is open."""
DEFAULT_AGE_BANDS = "labour"


def age_band_labels(name: str) -> tuple[str, ...]:
    bounds = AGE_BAND_SETS[name]
    labels = [f"{low}-{high - 1}" for low, high in zip(bounds, bounds[1:])]
    return (*labels, f"{bounds[-1]}+")


_NATIONALITIES = tuple(
    Attr("ksz", n) for n in ("nat_current", "nat_first", "nat_first_father", "nat_first_mother")
)
_RESIDENCE = (Attr("ksz", "municipality"),)


@dataclass(frozen=True)
class DimensionKind:
    name: str
    label: str
    description: str
    attributes: tuple[Attr, ...]
    parameters: tuple[str, ...] = ()
    required: int = 0
    """How many of ``parameters`` must be given; the others have defaults."""


DIMENSION_KINDS: dict[str, DimensionKind] = {
    d.name: d
    for d in (
        DimensionKind("origin_category", "Origin",
                      "origin category under an origin definition (KSZ nationality history)",
                      _NATIONALITIES, ("definition",), 1),
        DimensionKind("origin_group", "Origin group",
                      "origin country grouped by an explicit country grouping, at the reference "
                      "date (default grouping: the definition's own)",
                      _NATIONALITIES, ("definition", "grouping"), 1),
        DimensionKind("generation", "Generation", "migration generation under an origin definition",
                      _NATIONALITIES, ("definition",), 1),
        DimensionKind("sex", "Sex", "sex in the Rijksregister (KSZ)", (Attr("ksz", "sex"),)),
        DimensionKind("age_band", "Age",
                      "age on 31 December of the period year, in a registered band set "
                      f"({', '.join(AGE_BAND_SETS)}; default {DEFAULT_AGE_BANDS})",
                      (Attr("ksz", "birth_year"),), ("bands",), 0),
        DimensionKind("region", "Region", "region of residence (KSZ municipality, 2025 boundaries)",
                      _RESIDENCE),
        DimensionKind("province", "Province",
                      "province of residence (KSZ municipality, 2025 boundaries; Brussels has none)",
                      _RESIDENCE),
        DimensionKind("municipality", "Municipality",
                      "municipality of residence, NIS code in 2025 boundaries (older codes are "
                      "bridged over the 2019 and 2025 mergers)", _RESIDENCE),
        DimensionKind("period", "Period", "the period year", ()),
        DimensionKind("education_level", "Education level", "highest education level (VDAB)",
                      (Attr("vdab", "education_level"),)),
        DimensionKind("school_level", "School level", "level of the last school year (education)",
                      (Attr("education", "level"),)),
        DimensionKind("nt2_level", "Dutch (NT2) level", "highest certified Dutch level (integration)",
                      (Attr("integration", "nt2_level"),)),
        DimensionKind("integration_outcome", "Civic integration",
                      "whether the person completed a civic-integration trajectory (attest), "
                      "has one not (yet) completed, was exempted, or has no linked trajectory",
                      (Attr("integration", "status"),)),
    )
}

INTEGRATION_OUTCOMES = ("completed", "not_completed", "exempt", "no_trajectory")


def measure(name: str) -> Measure:
    """A registered measure, or a clear error listing the known ones."""
    try:
        return MEASURES[name]
    except KeyError:
        raise RegistryError(
            f"unknown measure {name!r}; known measures are {', '.join(MEASURES)}"
        ) from None


def dimension_kind(name: str) -> DimensionKind:
    """A registered dimension kind, or a clear error listing the known ones."""
    try:
        return DIMENSION_KINDS[name]
    except KeyError:
        raise RegistryError(
            f"unknown dimension {name!r}; known dimensions are {', '.join(_dimension_forms())}"
        ) from None


def _dimension_forms() -> list[str]:
    forms = []
    for kind in DIMENSION_KINDS.values():
        required = "".join(f":<{p}>" for p in kind.parameters[: kind.required])
        optional = "".join(f"[:<{p}>]" for p in kind.parameters[kind.required:])
        forms.append(kind.name + required + optional)
    return forms


def population(name: str) -> Population:
    try:
        return POPULATIONS[name]
    except KeyError:
        raise RegistryError(
            f"unknown population {name!r}; a population is a source: {', '.join(POPULATIONS)}"
        ) from None


def needed_attributes(period: int | None = None) -> dict[str, set[str]]:
    """Per source, every payload attribute the registry can read (all SEP years when no period)."""
    periods = [period] if period is not None else list(SEP_YEARS)
    needed: dict[str, set[str]] = {source: set() for source in SOURCES}
    for year in periods:
        attrs = [p.period_filter.attrs() for p in POPULATIONS.values()]
        attrs += [c.attrs() for m in MEASURES.values() for c in m.conditions()]
        attrs += [kind.attributes for kind in DIMENSION_KINDS.values()]
        for group in attrs:
            for attr in group:
                # Offsets may point beyond the delivered years; those are refused per request.
                resolved = attr.resolve(year)
                if resolved in {a.name for a in SOURCES[attr.source].payload}:
                    needed[attr.source].add(resolved)
    return needed


def validate_registry() -> None:
    """Check every condition against the payload declarations; raise on the first mismatch."""
    for pop in POPULATIONS.values():
        pop.period_filter.check(pop.first_period)
    for m in MEASURES.values():
        if m.kind == "rate" and not m.numerator:
            raise RegistryError(f"rate {m.name} has no numerator")
        if m.kind == "count" and m.numerator:
            raise RegistryError(f"count {m.name} has a numerator")
        for source in m.populations:
            population(source)
        _check_some_year(m)
    for kind in DIMENSION_KINDS.values():
        for attr in kind.attributes:
            attr.declaration(SEP_YEARS[0])


def _check_some_year(m: Measure) -> None:
    """A measure must be computable in at least one delivered year; report why not otherwise."""
    problem: RegistryError | None = None
    for year in SEP_YEARS:
        try:
            for condition in m.conditions():
                condition.check(year)
            return
        except RegistryError as exc:
            problem = exc
    raise RegistryError(f"measure {m.name} cannot be computed in any delivered year: {problem}")
