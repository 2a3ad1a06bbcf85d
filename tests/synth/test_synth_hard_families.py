"""The harder corruption families (off by default): each shows in the extracts at its rate,
and the encoder keeps every record they produce."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from linkage.encoding import encode_csv
from linkage.synth import generate, variants
from linkage.synth.config import SourceNoise, config_from_mapping

from .conftest import Dataset
from .test_synth_noise import joined

HARD = {"particle_dropped": 1.0, "surname_doubled": 0.3, "date_impossible": 0.06,
        "newcomer_jan1": 1.0, "newcomer_insz_missing": 1.0}
LAST_YEAR = 2024


@pytest.fixture(scope="module")
def hard_vdab(tmp_path_factory) -> Dataset:
    """vdab with only the hard families on (everything else clean)."""
    rates = {name: 0.0 for name in SourceNoise.__dataclass_fields__} | HARD
    outdir = tmp_path_factory.mktemp("hard") / "out"
    return Dataset(outdir, generate(8000, 33, outdir, config=config_from_mapping({"noise": {"vdab": rates}})))


def _newcomer(person: dict) -> bool:
    return person["generation"] == "first" and int(person["arrival_date"][:4]) > LAST_YEAR - 2


def _date(text: str) -> tuple[int, int, int]:
    day, month, year = text.split("/")
    return int(year), int(month), int(day)


def test_families_are_off_by_default():
    noise = SourceNoise()
    assert all(getattr(noise, name) == 0.0 for name in HARD)


def test_particles_are_dropped_and_surnames_doubled(hard_vdab):
    rows = joined(hard_vdab, "vdab")
    with_particle = [(r, p) for r, p in rows if p["surname"].split()[0].lower() in ("van", "de", "el", "ben")
                     and len(p["surname"].split()) > 1]
    assert len(with_particle) > 20
    assert all(p["surname"].split()[0] not in r["surname"].split()[:1] for r, p in with_particle)
    doubled = sum(len(r["surname"].replace("-", " ").split())
                  > len(variants.drop_particles(p["surname"]).replace("-", " ").split())
                  for r, p in rows) / len(rows)
    assert 0.2 < doubled < 0.4


def test_newcomers_have_1_january_and_no_national_number(hard_vdab):
    newcomers = [(r, p) for r, p in joined(hard_vdab, "vdab") if _newcomer(p)]
    others = [(r, p) for r, p in joined(hard_vdab, "vdab") if not _newcomer(p)]
    assert len(newcomers) > 10
    assert all(r["insz"] == "" for r, _ in newcomers)
    assert all(r["insz"] != "" for r, _ in others)
    assert all(_date(r["birth_date"])[1:] == (1, 1) for r, _ in newcomers)


def test_impossible_dates_are_no_dates_and_the_encoder_keeps_them(hard_vdab, tmp_path):
    rows = joined(hard_vdab, "vdab")
    impossible = 0
    for r, _ in rows:
        year, month, day = _date(r["birth_date"])
        try:
            dt.date(year, month, day)
        except ValueError:
            impossible += 1
    assert 0.01 < impossible / len(rows) < 0.05
    extract, summary = encode_csv(hard_vdab.outdir / "vdab.csv", "belgian-v1", b"s" * 32, source="vdab",
                                  id_column="record_id", exact_column="insz")
    assert summary.rejected_rows == 0 and summary.records == len(rows)
    noisy = sum(count for (column, _), count in summary.noisy_counts.items() if column == "birth_date")
    assert noisy >= impossible


def test_drop_particles_keeps_names_without_particles():
    assert variants.drop_particles("Van den Broeck") == "Broeck"
    assert variants.drop_particles("D'Hondt") == "Hondt"
    assert variants.drop_particles("Peeters") == "Peeters"
    assert variants.drop_particles("De") == "De"
    assert variants.double_surname("Peeters", "Peeters", random.Random(1)) == "Peeters"


def test_the_rates_are_checked_like_the_others():
    with pytest.raises(Exception, match="between 0 and 1"):
        config_from_mapping({"noise": {"vdab": {"surname_doubled": 1.5}}})
