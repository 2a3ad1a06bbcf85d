"""Corruption: configured rates are what the extracts show, and the hard cases (origin-
dependent transliteration, BIS numbers, 1 January dates) are there."""

from __future__ import annotations

import datetime as dt

import pytest

from linkage.synth import SynthConfig, generate
from linkage.synth.config import DEFAULT_NOISE, SourceNoise, config_from_mapping

from .conftest import Dataset
from .test_synth_output import parse_birth_date

MAGHREB = ("354", "351", "357")


def compact(insz: str) -> str:
    return insz.replace(".", "").replace("-", "")


def joined(data: Dataset, source: str):
    persons = data.persons()
    person_of = data.person_of(source)
    return [(r, persons[person_of[r["record_id"]]]) for r in data.rows(source)]


@pytest.fixture(scope="module")
def clean_vdab_noisy_integration(tmp_path_factory) -> Dataset:
    config = config_from_mapping({
        "noise": {
            "vdab": {name: 0.0 for name in SourceNoise.__dataclass_fields__},
            "integration": {"moved": 0.5, "insz_missing": 0.1, "names_swapped": 0.2,
                            "duplicate": 0.0},
        },
    })
    outdir = tmp_path_factory.mktemp("noise") / "out"
    return Dataset(outdir, generate(8000, 21, outdir, config=config))


def test_without_noise_a_source_holds_the_true_identifiers(clean_vdab_noisy_integration):
    rows = joined(clean_vdab_noisy_integration, "vdab")
    assert rows
    for r, p in rows:
        assert compact(r["insz"]) == p["insz"]
        assert r["given_names"] == p["given_names"] and r["surname"] == p["surname"]
        assert r["sex"] == p["sex"] and r["postcode"] == p["postcode"]
        assert parse_birth_date("vdab", r["birth_date"]) == dt.date.fromisoformat(p["birth_date"])
    assert clean_vdab_noisy_integration.summary.duplicates["vdab"] == 0


def test_configured_rates_are_observed(clean_vdab_noisy_integration):
    rows = joined(clean_vdab_noisy_integration, "integration")
    n = len(rows)
    assert n > 80
    moved = sum(r["postcode"] != p["postcode"] for r, p in rows) / n
    assert abs(moved - 0.5) < 0.15
    swapped = sum(r["given_names"].upper() == p["surname"].upper() for r, p in rows) / n
    assert 0.08 < swapped < 0.35
    missing = sum(r["insz"] == "" for r, p in rows) / n
    assert 0.05 < missing < 0.35   # 0.1, tripled for persons who arrived in the last two years


def test_default_rates_differ_by_source_as_registers_do(large):
    def share(source, test):
        rows = joined(large, source)
        return sum(test(r, p) for r, p in rows) / len(rows)

    moved = {s: share(s, lambda r, p: r["postcode"] != p["postcode"]) for s in ("ksz", "vdab")}
    assert moved["ksz"] == 0
    assert abs(moved["vdab"] - DEFAULT_NOISE["vdab"].moved) < 0.03
    missing = {s: share(s, lambda r, p: r["insz"] == "") for s in ("ksz", "vdab", "integration")}
    assert missing["ksz"] == 0 and missing["vdab"] < missing["integration"]
    first_only = share("education", lambda r, p: " " in p["given_names"] and " " not in r["given_names"])
    several = share("education", lambda r, p: " " in p["given_names"])
    assert first_only / several > 0.6


def test_transliteration_variants_are_much_more_frequent_for_some_origins(large):
    rows = joined(large, "integration") + joined(large, "vdab")

    def differs(origins):
        sel = [r["surname"].lower() != p["surname"].lower() for r, p in rows
               if (p["origin_country"] in origins) == (origins != ())]
        return sum(sel) / len(sel)

    belgian = [r["surname"].lower() != p["surname"].lower() for r, p in joined(large, "vdab")
               if p["origin_country"] == "150"]
    assert differs(MAGHREB) > 3 * (sum(belgian) / len(belgian))


def test_bis_numbers_replace_rrn_numbers_in_some_sources(large):
    stale = 0
    for r, p in joined(large, "integration"):
        if p["bis_previous"] and compact(r["insz"]) == p["bis_previous"]:
            stale += 1
    assert stale > 0
    ksz = joined(large, "ksz")
    differ = [(r, p) for r, p in ksz if r["insz"] != p["insz"]]   # ksz resolves replaced numbers
    assert len(differ) <= 0.002 * len(ksz) + 2                     # a few wrong ones aside
    assert not any(p["bis_previous"] and r["insz"] == p["bis_previous"] for r, p in differ)


def test_unknown_birth_dates_show_as_first_of_january_in_ksz(large):
    uncertain = [(r, p) for r, p in joined(large, "ksz") if p["birth_date_unknown_in_register"] == "1"]
    assert uncertain
    assert all(r["birth_date"][5:] == "01-01" for r, _ in uncertain)
    real_dates_elsewhere = [r for r, p in joined(large, "vdab") + joined(large, "education")
                            if p["birth_date_unknown_in_register"] == "1"
                            and r["birth_date"] not in (f"01/01/{p['birth_date'][:4]}", f"{p['birth_date'][:4]}0101")]
    assert real_dates_elsewhere


@pytest.mark.parametrize("bad, message", [
    ({"noise": {"vdab": {"moved": 1.5}}}, "noise.vdab.moved must be a number between 0 and 1"),
    ({"noise": {"vdab": {"moves": 0.1}}}, "unknown rate(s) moves"),
    ({"noise": {"dwh": {}}}, "unknown source 'dwh'"),
    ({"foreign_share": 0.3}, "unknown setting(s) foreign_share"),
    ({"foreign_origin_share": True}, "foreign_origin_share must be a number"),
])
def test_bad_configuration_is_a_clear_error(bad, message):
    from linkage.synth import SynthConfigError

    with pytest.raises(SynthConfigError) as info:
        config_from_mapping(bad)
    assert message in str(info.value)


def test_configuration_round_trips_through_json():
    config = config_from_mapping({"integration_uptake": 0.5, "noise": {"ksz": {"typo_surname": 0.1}}})
    again = config_from_mapping(config.to_json())
    assert again == config and again.noise["ksz"].typo_surname == 0.1
    assert again.noise["vdab"] == SynthConfig().noise["vdab"]
