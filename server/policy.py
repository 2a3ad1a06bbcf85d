"""The authorisation policy: who may upload, link, audit and ask for statistics.

The policy is a TOML file (example in ``deploy/policy.toml``). Organisations are the names
in their certificates' subjects (O=, else CN=). Everything not granted is refused (deny by
default). Each ``authorise_*`` function is pure: it takes the policy and the facts of one
call and returns a :class:`Decision` whose reason helps a legitimate user. The broker
records every decision together with the policy's SHA-256.

::

    auditors = ["auditor"]
    run_operators = ["operator"]       # never a holder of an authorisation (see _separate_roles)

    [uploads]                 # organisation -> sources it may upload
    ksz = ["ksz"]

    [[authorisations]]
    id = "IVC-24-001"         # e.g. an Information Security Committee deliberation
    holder = "statistics"
    purpose = "..."
    sources = ["ksz", "vdab"]
    measures = ["persons", "outflow_to_work_12m"]
    dimensions = ["origin_group", "sex", "age_band"]   # a kind allows all its variants
    valid_from = 2024-01-01
    valid_until = 2026-12-31
    min_cell_size = 5
    period_from = 2019        # optional: years the data may cover
    period_until = 2024
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

from linkage.errors import LinkageError
from linkage.sources import SOURCES


class PolicyError(LinkageError):
    """The policy file is missing or malformed; the message names the entry."""


@dataclass(frozen=True)
class Authorisation:
    id: str
    holder: str
    purpose: str
    sources: frozenset[str]
    measures: frozenset[str]
    dimensions: frozenset[str]
    valid_from: _dt.date
    valid_until: _dt.date
    min_cell_size: int
    period_from: int | None = None
    period_until: int | None = None


@dataclass(frozen=True)
class Policy:
    uploads: Mapping[str, frozenset[str]]
    authorisations: tuple[Authorisation, ...]
    auditors: frozenset[str]
    run_operators: frozenset[str]
    sha256: str

    def organisations(self) -> frozenset[str]:
        holders = {a.holder for a in self.authorisations}
        return frozenset(self.uploads) | self.auditors | self.run_operators | holders

    def authorisation(self, identifier: str) -> Authorisation | None:
        return next((a for a in self.authorisations if a.id == identifier), None)

    def permissions(self, organisation: str) -> list[str]:
        """What ``organisation`` may do, as short strings (for ``GetBrokerInfo``)."""
        granted = [f"upload:{source}" for source in sorted(self.uploads.get(organisation, ()))]
        if organisation in self.run_operators:
            granted.append("run")
        if organisation in self.auditors:
            granted.append("audit")
        granted += [f"statistics:{a.id}" for a in self.authorisations if a.holder == organisation]
        return granted


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    authorisation: Authorisation | None = None


_TOP = {"uploads", "authorisations", "auditors", "run_operators"}
_AUTH_REQUIRED = {
    "id", "holder", "purpose", "sources", "measures", "dimensions",
    "valid_from", "valid_until", "min_cell_size",
}
_AUTH_OPTIONAL = {"period_from", "period_until"}


def _names(where: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where} must be a list of names, e.g. [\"ksz\"]")
    return frozenset(value)


def _date(where: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(f"{where} must be a date (YYYY-MM-DD)")


def _known_sources(where: str, sources: frozenset[str]) -> None:
    unknown = sorted(sources - set(SOURCES))
    if unknown:
        raise PolicyError(f"{where} names unknown source(s) {', '.join(unknown)}; known: {', '.join(sorted(SOURCES))}")


def _authorisation(index: int, table: Any) -> Authorisation:
    where = f"authorisations[{index}]"
    if not isinstance(table, dict):
        raise PolicyError(f"{where} must be a table ([[authorisations]])")
    missing = sorted(_AUTH_REQUIRED - set(table))
    unknown = sorted(set(table) - _AUTH_REQUIRED - _AUTH_OPTIONAL)
    if missing:
        raise PolicyError(f"{where} lacks {', '.join(missing)}")
    if unknown:
        raise PolicyError(f"{where} has unknown key(s) {', '.join(unknown)}")
    for key in ("id", "holder", "purpose"):
        if not isinstance(table[key], str) or not table[key].strip():
            raise PolicyError(f"{where}.{key} must be a non-empty string")
    where = f"authorisation {table['id']!r}"
    sources = _names(f"{where}: sources", table["sources"])
    _known_sources(where, sources)
    valid_from = _date(f"{where}: valid_from", table["valid_from"])
    valid_until = _date(f"{where}: valid_until", table["valid_until"])
    if valid_until < valid_from:
        raise PolicyError(f"{where}: valid_until lies before valid_from")
    k = table["min_cell_size"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise PolicyError(f"{where}: min_cell_size must be a whole number of at least 1")
    periods = []
    for key in ("period_from", "period_until"):
        value = table.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise PolicyError(f"{where}: {key} must be a year, e.g. 2019")
        periods.append(value)
    return Authorisation(
        id=table["id"], holder=table["holder"], purpose=table["purpose"].strip(),
        sources=sources,
        measures=_names(f"{where}: measures", table["measures"]),
        dimensions=_names(f"{where}: dimensions", table["dimensions"]),
        valid_from=valid_from, valid_until=valid_until, min_cell_size=k,
        period_from=periods[0], period_until=periods[1],
    )


def parse_policy(text: str, where: str = "policy") -> Policy:
    """Parse and check a policy; any mistake is a :class:`PolicyError` naming the entry."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{where} is not valid TOML ({exc})") from None
    unknown = sorted(set(document) - _TOP)
    if unknown:
        raise PolicyError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a policy has {', '.join(sorted(_TOP))} "
            "(top-level lists must come before the first [table])"
        )
    uploads_table = document.get("uploads", {})
    if not isinstance(uploads_table, dict):
        raise PolicyError(f"{where}: [uploads] must be a table of organisation = [sources]")
    uploads = {}
    for organisation, sources in uploads_table.items():
        names = _names(f"{where}: uploads.{organisation}", sources)
        _known_sources(f"{where}: uploads.{organisation}", names)
        uploads[organisation] = names
    owners: dict[str, str] = {}
    for organisation, sources in uploads.items():
        for source in sources:
            if source in owners:
                raise PolicyError(
                    f"{where}: source {source!r} is granted to both {owners[source]!r} and "
                    f"{organisation!r}; exactly one organisation provides a source"
                )
            owners[source] = organisation
    raw_auths = document.get("authorisations", [])
    if not isinstance(raw_auths, list):
        raise PolicyError(f"{where}: authorisations must be [[authorisations]] tables")
    authorisations = tuple(_authorisation(i, table) for i, table in enumerate(raw_auths))
    ids = [a.id for a in authorisations]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PolicyError(f"{where}: authorisation id(s) {', '.join(duplicates)} appear twice")
    auditors = _names(f"{where}: auditors", document.get("auditors", []))
    run_operators = _names(f"{where}: run_operators", document.get("run_operators", []))
    _separate_roles(where, authorisations, auditors, run_operators)
    return Policy(
        uploads=uploads,
        authorisations=authorisations,
        auditors=auditors,
        run_operators=run_operators,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def _separate_roles(where: str, authorisations: Sequence[Authorisation], auditors: frozenset[str],
                    run_operators: frozenset[str]) -> None:
    """A requester of tables may not also read runs or the audit log: a run's quality figures
    (links and linkage rates per origin group) and the log's counts per release describe the
    same persons as the tables but are not protected against differencing with them."""
    for grant in authorisations:
        for role, members in (("a run operator", run_operators), ("an auditor", auditors)):
            if grant.holder in members:
                raise PolicyError(
                    f"{where}: {grant.holder!r} holds authorisation {grant.id} and is also {role}; "
                    "run quality figures and the audit log are not protected against differencing "
                    "with tables, so a requester may not read them. Give the roles to separate "
                    "organisations, each with its own certificate (linkage pki issue DIR NAME)")


def load_policy(path: str | Path) -> Policy:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise PolicyError(f"cannot read the policy {path} ({exc.strerror})") from None
    return parse_policy(text, str(path))


_ASK = "If this is wrong, ask the broker operator to change the policy."


def _unknown(policy: Policy, organisation: str) -> Decision | None:
    if organisation in policy.organisations():
        return None
    return Decision(
        False,
        f"organisation {organisation!r} (from your certificate) is not named in the broker "
        f"policy, so it may do nothing. {_ASK}",
    )


def authorise_info(policy: Policy, organisation: str) -> Decision:
    return _unknown(policy, organisation) or Decision(True, "organisation is named in the policy")


def authorise_upload(policy: Policy, organisation: str, source: str) -> Decision:
    refused = _unknown(policy, organisation)
    if refused:
        return refused
    allowed = policy.uploads.get(organisation, frozenset())
    if source in allowed:
        return Decision(True, f"{organisation!r} may upload source {source!r}")
    if not allowed:
        return Decision(False, f"{organisation!r} may not upload any source. {_ASK}")
    return Decision(
        False,
        f"{organisation!r} may upload only source(s) {', '.join(sorted(allowed))}, "
        f"not {source!r}. Check the extract's source (linkage encode --source). {_ASK}",
    )


def _role(policy: Policy, organisation: str, members: frozenset[str], granted: str, refused: str) -> Decision:
    """A decision on membership of a role (run operators, auditors); unknown callers first."""
    unknown = _unknown(policy, organisation)
    if unknown:
        return unknown
    if organisation in members:
        return Decision(True, granted)
    return Decision(False, f"{refused} {_ASK}")


def authorise_run(policy: Policy, organisation: str) -> Decision:
    return _role(policy, organisation, policy.run_operators, f"{organisation!r} is a run operator",
                 f"{organisation!r} is not a run operator, so it may not start runs.")


def authorise_run_read(policy: Policy, organisation: str) -> Decision:
    """Run parameters and quality figures: for run operators and auditors."""
    return _role(policy, organisation, policy.run_operators | policy.auditors, f"{organisation!r} may read runs",
                 f"{organisation!r} is neither a run operator nor an auditor, so it may not read runs.")


def authorise_audit(policy: Policy, organisation: str) -> Decision:
    return _role(policy, organisation, policy.auditors, f"{organisation!r} is an auditor",
                 f"{organisation!r} is not an auditor, so it may not read the audit log.")


def _dimension_allowed(requested: str, granted: frozenset[str]) -> bool:
    """A requested key (defaults filled in, e.g. ``origin_group:sem:sem``) is allowed by
    itself, by its kind (``origin_group``) or by any shorter variant (``origin_group:sem``)."""
    parts = requested.split(":")
    return any(":".join(parts[:length]) in granted for length in range(1, len(parts) + 1))


def authorise_statistics(
    policy: Policy,
    organisation: str,
    authorisation_id: str,
    sources: Collection[str],
    measures: Collection[str],
    dimensions: Collection[str],
    periods: Collection[int],
    today: _dt.date,
) -> Decision:
    """May ``organisation`` have this table under ``authorisation_id`` today?

    ``sources`` are the sources the population and measures read (the aggregate step
    knows them); ``dimensions`` are keys such as ``origin_group:sem``; ``periods`` years.
    On success the decision carries the authorisation (its ``min_cell_size`` applies).
    """
    refused = _unknown(policy, organisation)
    if refused:
        return refused
    grant = policy.authorisation(authorisation_id)
    if grant is None or grant.holder != organisation:
        held = [a.id for a in policy.authorisations if a.holder == organisation]
        return Decision(
            False,
            f"{organisation!r} holds no authorisation {authorisation_id!r}; it holds: "
            f"{', '.join(held) if held else 'none'}. {_ASK}",
        )
    name = f"authorisation {grant.id}"
    if today < grant.valid_from:
        return Decision(False, f"{name} takes effect on {grant.valid_from.isoformat()}")
    if today > grant.valid_until:
        return Decision(False, f"{name} expired on {grant.valid_until.isoformat()}; a renewed deliberation is needed")
    checks = (
        ("source(s)", set(sources) - grant.sources, grant.sources),
        ("measure(s)", set(measures) - grant.measures, grant.measures),
        ("dimension(s)", {d for d in dimensions if not _dimension_allowed(d, grant.dimensions)}, grant.dimensions),
    )
    for what, outside, granted in checks:
        if outside:
            return Decision(
                False,
                f"{name} does not cover {what} {', '.join(sorted(outside))}; it covers "
                f"{', '.join(sorted(granted))}",
            )
    for year in periods:
        if (grant.period_from is not None and year < grant.period_from) or (
            grant.period_until is not None and year > grant.period_until
        ):
            return Decision(
                False,
                f"{name} covers the years {grant.period_from or '...'} to "
                f"{grant.period_until or '...'}, not {year}",
            )
    return Decision(True, f"within {name} ({grant.purpose})", grant)


class PolicyStore:
    """The policy in force, reloaded when its file changes (or on demand, e.g. SIGHUP).

    A file that fails to parse never replaces a good policy: the broker keeps the last
    good one and reports the error.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._policy = load_policy(self.path)
        self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    @property
    def current(self) -> Policy:
        with self._lock:
            return self._policy

    def changed_on_disk(self) -> bool:
        return self._file_stamp() != self._stamp

    def reload(self) -> tuple[Policy, Policy]:
        """Read the file again; returns (previous, current). Raises PolicyError when bad."""
        stamp = self._file_stamp()
        with self._lock:
            self._stamp = stamp
            previous = self._policy
        policy = load_policy(self.path)
        with self._lock:
            self._policy = policy
        return previous, policy


def example_policy(organisations: Collection[str], today: _dt.date | None = None) -> str:
    """A policy for a development set-up: each provider uploads its own source,
    ``statistics`` holds one example authorisation, ``operator`` starts and reads runs,
    ``auditor`` reads the log: three organisations, because a requester may not read runs."""
    today = today or _dt.date.today()
    providers = [name for name in organisations if name in SOURCES]
    lines = [
        "# Broker policy (development example written by 'linkage pki init').",
        "# Organisations are the O= (else CN=) of their client certificates. Deny by default.",
        "",
        f"auditors = {json.dumps([name for name in organisations if name == 'auditor'])}",
        f"run_operators = {json.dumps([name for name in organisations if name == 'operator'])}",
        "",
        "[uploads]  # organisation = [sources it may upload]",
        *(f'{name} = ["{name}"]' for name in providers),
    ]
    if "statistics" in organisations:
        lines += [
            "",
            "[[authorisations]]",
            'id = "IVC-24-001"  # example: an Information Security Committee deliberation',
            'holder = "statistics"',
            'purpose = "Monitoring the origin gap (herkomstkloof) in work, job search, civic integration and education"',
            'sources = ["ksz", "vdab", "integration", "education"]',
            'measures = ["persons", "employment_rate", "employment_rate_after_2y", "outflow_to_work_12m",',
            '            "outflow_to_work_24m", "integration_completion_rate", "nt2_a2_or_higher_rate",',
            '            "school_delay_rate", "early_leaving_rate"]',
            'dimensions = ["origin_category", "origin_group", "generation", "sex", "age_band", "region",',
            '              "province", "period", "education_level", "school_level", "nt2_level",',
            '              "integration_outcome"]',
            f"valid_from = {today.replace(month=1, day=1).isoformat()}",
            f"valid_until = {today.replace(year=today.year + 2, month=12, day=31).isoformat()}",
            "min_cell_size = 5",
            "period_from = 2019",
            f"period_until = {today.year}",
        ]
    return "\n".join(lines) + "\n"
