"""Generator settings: corruption rates per source, coverage and population targets.

Every rate is a probability per record (or per person where it says so). The defaults model
how the four registers differ: ``ksz`` copies the Rijksregister (clean, full given names,
always a national number), ``vdab`` and ``education`` are keyed in by counsellors and school
secretariats (first given name only, stale addresses), ``integration`` works from foreign
documents shortly after arrival (transliteration variants, BIS numbers, missing numbers).
A JSON file can override any of them (``load_config``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkage.errors import LinkageError


class SynthConfigError(LinkageError):
    """The generator configuration is not valid."""


@dataclass(frozen=True)
class SourceNoise:
    """How one source's copy of a person's identifiers differs from the truth."""

    typo_surname: float = 0.0        # one insert/delete/substitute/transpose in the surname
    typo_given: float = 0.0          # the same in the given names
    transliteration: float = 0.0     # another spelling of a transliterated name; multiplied by
                                     # the origin's factor (names.TRANSLITERATION_FACTOR)
    diacritics_dropped: float = 0.0  # all diacritics of the names dropped (é->e, ş->s, ł->l)
    particle_restyled: float = 0.0   # name particles joined, split or hyphenated (Van den, El, D')
    names_swapped: float = 0.0       # given names and surname exchanged
    first_given_only: float = 0.0    # only the first of several given names kept
    surname_part_dropped: float = 0.0  # one part of a multi-part surname dropped
    birth_jan1: float = 0.0          # for persons with unknown day/month: 1 January shown
                                     # instead of the date other documents give
    day_month_swapped: float = 0.0   # day and month exchanged (only where both are <= 12)
    date_typo: float = 0.0           # day or year off by one
    sex_wrong: float = 0.0
    moved: float = 0.0               # postcode of a previous address
    insz_missing: float = 0.0        # no national number (tripled for recent arrivals)
    insz_bis_stale: float = 0.0      # for persons who had a BIS number before their RRN:
                                     # the old BIS number is shown
    insz_wrong: float = 0.0          # someone else's (valid) national number
    duplicate: float = 0.0           # a second record of the same person (per person)
    # Harder families, off by default (the held-out benchmark turns them on):
    particle_dropped: float = 0.0    # surname particles lost (Van den Broeck -> Broeck)
    surname_doubled: float = 0.0     # a second surname added (a spouse's or the mother's)
    date_impossible: float = 0.0     # a keying error that gives no real date (31/04, month 13)
    newcomer_jan1: float = 0.0       # recent first-generation arrivals: 1 January shown
                                     # instead of the true day and month (no documents)
    newcomer_insz_missing: float = 0.0  # recent first-generation arrivals: no national
                                        # number (at least this rate; else 3 x insz_missing)


DEFAULT_NOISE = {
    "ksz": SourceNoise(
        typo_surname=0.002, typo_given=0.002, transliteration=0.01, diacritics_dropped=0.02,
        particle_restyled=0.01, names_swapped=0.0005, first_given_only=0.0,
        surname_part_dropped=0.0, birth_jan1=1.0, day_month_swapped=0.0005, date_typo=0.0005,
        sex_wrong=0.0, moved=0.0, insz_missing=0.0, insz_bis_stale=0.0, insz_wrong=0.0002,
        duplicate=0.0,
    ),
    "vdab": SourceNoise(
        typo_surname=0.015, typo_given=0.015, transliteration=0.25, diacritics_dropped=0.30,
        particle_restyled=0.15, names_swapped=0.005, first_given_only=0.6,
        surname_part_dropped=0.3, birth_jan1=0.5, day_month_swapped=0.003, date_typo=0.003,
        sex_wrong=0.001, moved=0.08, insz_missing=0.02, insz_bis_stale=0.3, insz_wrong=0.002,
        duplicate=0.002,
    ),
    "integration": SourceNoise(
        typo_surname=0.03, typo_given=0.03, transliteration=0.45, diacritics_dropped=0.30,
        particle_restyled=0.25, names_swapped=0.03, first_given_only=0.3,
        surname_part_dropped=0.35, birth_jan1=0.7, day_month_swapped=0.01, date_typo=0.008,
        sex_wrong=0.003, moved=0.12, insz_missing=0.12, insz_bis_stale=0.6, insz_wrong=0.004,
        duplicate=0.003,
    ),
    "education": SourceNoise(
        typo_surname=0.01, typo_given=0.01, transliteration=0.15, diacritics_dropped=0.10,
        particle_restyled=0.10, names_swapped=0.003, first_given_only=0.8,
        surname_part_dropped=0.2, birth_jan1=0.4, day_month_swapped=0.002, date_typo=0.002,
        sex_wrong=0.001, moved=0.06, insz_missing=0.03, insz_bis_stale=0.4, insz_wrong=0.002,
        duplicate=0.001,
    ),
}


@dataclass(frozen=True)
class SynthConfig:
    foreign_origin_share: float = 0.26   # Flemish Region, 1 January 2023 (domain research 5.1)
    ksz_coverage: float = 0.995          # residents missing from the KSZ extract (per person)
    integration_uptake: float = 0.70     # non-EU newcomers (18+) who sign an integration contract
    education_coverage: float = 0.96     # pupils in Flemish (Dutch-language) education
    noise: dict[str, SourceNoise] = field(default_factory=lambda: dict(DEFAULT_NOISE))

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["noise"] = {name: dataclasses.asdict(n) for name, n in self.noise.items()}
        return data


_SHARES = ("foreign_origin_share", "ksz_coverage", "integration_uptake", "education_coverage")


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise SynthConfigError(f"{where} must be a number between 0 and 1, got {value!r}")
    return float(value)


def config_from_mapping(data: dict[str, Any]) -> SynthConfig:
    """Defaults overridden by ``data`` (same shape as ``SynthConfig.to_json``, any subset)."""
    if not isinstance(data, dict):
        raise SynthConfigError("the configuration must be a JSON object")
    unknown = set(data) - set(_SHARES) - {"noise"}
    if unknown:
        raise SynthConfigError(
            f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(_SHARES)}, noise"
        )
    shares = {name: _probability(data[name], name) for name in _SHARES if name in data}
    noise = dict(DEFAULT_NOISE)
    overrides = data.get("noise", {})
    if not isinstance(overrides, dict):
        raise SynthConfigError("noise must be an object mapping a source name to its rates")
    rate_names = {f.name for f in dataclasses.fields(SourceNoise)}
    for source, rates in overrides.items():
        if source not in noise:
            raise SynthConfigError(f"noise: unknown source {source!r}; known: {', '.join(noise)}")
        if not isinstance(rates, dict):
            raise SynthConfigError(f"noise.{source} must be an object of rates")
        bad = set(rates) - rate_names
        if bad:
            raise SynthConfigError(
                f"noise.{source}: unknown rate(s) {', '.join(sorted(bad))}; "
                f"known: {', '.join(sorted(rate_names))}"
            )
        checked = {k: _probability(v, f"noise.{source}.{k}") for k, v in rates.items()}
        noise[source] = dataclasses.replace(noise[source], **checked)
    return SynthConfig(**shares, noise=noise)


def load_config(path: Path) -> SynthConfig:
    """Read overrides from a JSON file; a clear error if it cannot be read or is not valid."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SynthConfigError(f"cannot read the configuration {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SynthConfigError(
            f"the configuration {path} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    return config_from_mapping(data)
