"""Normalisation: every provider must turn the same person into the same strings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage import normalise
from linkage.normalise import NormalisationError, PartialDate

TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize("variants", [
    ["El Amrani", "Elamrani", "El-Amrani", "EL AMRANI", "el  amrani"],
    ["Van den Broeck", "Vandenbroeck", "VAN DEN BROECK", "Van Den Broeck", "Vanden Broeck", "van-den-broeck"],
    ["D'Hondt", "Dhondt", "D’HONDT", "d hondt"],
    ["Ben Ali", "Benali", "BEN-ALI"],
    ["Abu Bakr", "Abubakr"],
    ["De Smet", "Desmet", "DE SMET"],
    ["Van der Meer", "Vandermeer", "van der meer"],
    ["Le Roy", "Leroy", "LE ROY"],
])
def test_particle_variants_give_one_surname(variants):
    assert len({normalise.surname(variant) for variant in variants}) == 1


def test_double_surname_keeps_its_parts_apart():
    assert normalise.surname("Peeters-Janssens") == "piters iansens"
    assert normalise.surname("Peeters  Janssens") == "piters iansens"
    assert normalise.surname("Peeters De Smet") == "piters desmet"


def test_particle_alone_stays_a_name():
    assert normalise.surname("Le") == "le"
    assert normalise.surname("Ben") == "ben"


@pytest.mark.parametrize("raw, folded", [
    ("Şahin", "sahin"), ("Łukasz", "lukasz"), ("Øster", "oster"), ("Yılmaz", "yilmaz"),
    ("Groß", "gross"), ("Ærø", "aero"), ("Đoković", "dokovic"), ("Müller", "muller"),
    ("İlhan", "ilhan"), ("Michaël", "michael"), ("François", "francois"), ("Nuñez", "nunez"),
    ("Œuvrard", "oeuvrard"), ("Þór", "thor"), ("Ｍａｒｉａ", "maria"),
])
def test_diacritics_and_special_letters_fold(raw, folded):
    assert normalise.fold_text(raw) == folded
    assert normalise.surname(raw) == normalise.surname(folded.upper()) != ""


def test_given_names_keep_order_with_one_separator():
    assert normalise.given_names("Jean-Pierre  Marie") == "ian pire mari"
    assert normalise.given_names(" Marie,Jeanne ") == "mari iane"
    assert normalise.first_given_name("Mohamed Amine") == "mohamed"
    assert normalise.first_given_name("Abdel Kader Mohamed") == "abdelkader"
    assert normalise.first_given_name("Abdelkader") == "abdelkader"
    assert normalise.first_given_name("   ") == ""


def test_ben_is_a_given_name_not_a_particle():
    assert normalise.given_names("Ben Jan") == "ben ian"


names = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


def test_ascii_text_takes_a_short_cut_to_the_same_result():
    for code in range(128):
        assert normalise.fold_text(chr(code)) == normalise._fold_unicode(chr(code))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_names_fold_and_split_as_by_the_unicode_rules(raw):
    assert normalise.fold_text(raw) == normalise._fold_unicode(raw)
    folded = normalise.fold_text(raw).translate(normalise._APOSTROPHES)
    assert normalise._name_words(raw) == normalise._letter_words(folded)


@settings(max_examples=300, deadline=None)
@given(names)
def test_normalisation_is_idempotent(raw):
    for function in (normalise.surname, normalise.given_names, normalise.text, normalise.fold_text):
        once = function(raw)
        assert function(once) == once


@settings(max_examples=200, deadline=None)
@given(names)
def test_names_are_lower_case_single_spaced(raw):
    for function in (normalise.surname, normalise.given_names):
        value = function(raw)
        assert value == value.casefold()      # not .lower(): Cherokee case-folds to capitals
        assert "  " not in value and value == value.strip()
        assert "'" not in value and "-" not in value


particle = st.sampled_from(sorted(normalise.SURNAME_PARTICLES))
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10).filter(
    lambda w: w not in normalise.SURNAME_PARTICLES)


@settings(max_examples=200, deadline=None)
@given(st.lists(particle, min_size=1, max_size=3), word, st.sampled_from([" ", "-", "", "  "]))
def test_any_particle_spelling_joins(particles, name, separator):
    spaced = " ".join(p.title() for p in particles) + " " + name.title()
    glued = separator.join(particles) + separator + name
    assert normalise.surname(spaced) == normalise.surname(glued) == normalise.fold_spelling("".join(particles) + name)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
def test_every_belgian_date_form_gives_the_same_date(date):
    forms = [
        date.strftime("%d/%m/%Y"), f"{date.day}/{date.month}/{date.year}", date.strftime("%d-%m-%Y"),
        date.strftime("%d.%m.%Y"), date.isoformat(), date.strftime("%Y%m%d"), f" {date.isoformat()} ",
    ]
    expected = PartialDate(date.year, date.month, date.day)
    if (date.month, date.day) == (1, 1):
        expected = PartialDate(date.year, None, None, normalise.NOTE_PLACEHOLDER)  # an unknown date
    assert {normalise.birth_date(form, today=TODAY) for form in forms} == {expected}


@pytest.mark.parametrize("variants", [
    ["Mohammed", "Mohamed", "MOHAMMED"],
    ["Youssef", "Yousef", "Joessef", "Yussef"],
    ["Khadija", "Khadidja", "Hadija"],
    ["Walid", "Waleed"], ["Karimi", "Kareemi"], ["Hosseini", "Hosseinee"],
    ["Aicha", "Aisha", "Aysha"], ["Zeinab", "Zainab", "Zaynab"],
    ["Oleksandr", "Olexandr"], ["Tshibangu", "Tchibangu", "Chibangu"],
    ["Wijnants", "Wynants"], ["Boukhari", "Bukhari", "Boekhari"],
    ["Öztürk", "Oztürk", "Ozturk"], ["Djamila", "Jamila"], ["Hussein", "Hüseyin", "Husein"],
])
def test_transliterations_of_one_name_agree(variants):
    assert len({normalise.surname(v) for v in variants}) == 1
    assert len({normalise.first_given_name(v) for v in variants}) == 1


@pytest.mark.parametrize("different", [
    ["Peeters", "Peters"], ["Maes", "Mees"], ["Ali", "Alia"], ["Jan", "Johan"], ["Nadia", "Nadine"],
])
def test_the_spelling_fold_keeps_different_names_apart(different):
    assert len({normalise.surname(v) for v in different}) == len(different)


def test_spelling_fold_is_stable_and_only_touches_letters():
    for word in ("muhamed", "iusef", "oleksandr", "şahin", "иван", ""):
        assert normalise.fold_spelling(normalise.fold_spelling(word)) == normalise.fold_spelling(word)
    assert normalise.fold_spelling("иван") == "иван"


def test_first_of_january_is_a_placeholder_for_an_unknown_day_and_month():
    for form in ("01/01/1984", "1/1/1984", "1984-01-01", "19840101"):
        assert normalise.birth_date(form, today=TODAY) == PartialDate(1984, None, None, normalise.NOTE_PLACEHOLDER)
    assert normalise.birth_date("02/01/1984", today=TODAY) == PartialDate(1984, 1, 2)
    assert normalise.birth_date("01/02/1984", today=TODAY) == PartialDate(1984, 2, 1)


def test_unknown_day_and_month_as_in_the_national_register():
    partial = normalise.NOTE_PARTIAL
    assert normalise.birth_date("00/00/1980", today=TODAY) == PartialDate(1980, None, None, partial)
    assert normalise.birth_date("1980-00-00", today=TODAY) == PartialDate(1980, None, None, partial)
    assert normalise.birth_date("19800500", today=TODAY) == PartialDate(1980, 5, None, partial)
    assert normalise.birth_date("15/00/1980", today=TODAY) == PartialDate(1980, None, None, partial)
    assert normalise.birth_date("00/00/1980", today=TODAY).full() is None
    assert normalise.birth_date("", today=TODAY) is None


@pytest.mark.parametrize("raw, expected", [
    ("05/1980", (1980, 5, None)), ("5.1980", (1980, 5, None)), ("1980-05", (1980, 5, None)),
    ("1980", (1980, None, None)),
])
def test_partial_dates_are_read_for_what_they_hold(raw, expected):
    date = normalise.birth_date(raw, today=TODAY)
    assert (date.year, date.month, date.day) == expected and date.note == normalise.NOTE_PARTIAL
    assert date.exists and date.full() is None


@pytest.mark.parametrize("raw, parts, note", [
    ("30/02/1990", (1990, 2, 30), normalise.NOTE_DAY),
    ("29/02/1900", (1900, 2, 29), normalise.NOTE_DAY),
    ("31/04/1990", (1990, 4, 31), normalise.NOTE_DAY),
    ("45/04/1990", (1990, 4, None), normalise.NOTE_DAY),
    ("13/13/1990", (1990, None, 13), normalise.NOTE_MONTH),
    ("1990-13-01", (1990, None, 1), normalise.NOTE_MONTH),
    ("01/02/1850", (1850, 2, 1), normalise.NOTE_YEAR),
    ("01/02/2030", (2030, 2, 1), normalise.NOTE_FUTURE),
    ("31/12/2026", (2026, 12, 31), normalise.NOTE_FUTURE),
])
def test_impossible_dates_are_kept_for_their_parts(raw, parts, note):
    date = normalise.birth_date(raw, today=TODAY)
    assert (date.year, date.month, date.day) == parts and date.note == note
    assert not date.exists and date.full() is None


@pytest.mark.parametrize("raw, nearest", [
    ("01/01/1984", dt.date(1984, 1, 1)), ("00/00/1980", dt.date(1980, 1, 1)),
    ("19800500", dt.date(1980, 5, 1)), ("30/02/1990", dt.date(1990, 2, 28)),
    ("29/02/1900", dt.date(1900, 2, 28)), ("45/04/1990", dt.date(1990, 4, 1)),
    ("13/13/1990", dt.date(1990, 1, 13)), ("01/02/1850", dt.date(1850, 2, 1)),
    ("01/02/2030", dt.date(2030, 2, 1)), ("12/03/0990", None),
])
def test_the_nearest_real_date_keeps_every_part_it_can(raw, nearest):
    """What a clkhash ``date`` feature hashes for a partial or impossible date."""
    assert normalise.birth_date(raw, today=TODAY).nearest_date() == nearest


@pytest.mark.parametrize("raw, code", [
    ("M", "m"), ("man", "m"), ("Male", "m"), ("H", "m"), ("homme", "m"), ("männlich", "m"),
    ("F", "f"), ("V", "f"), ("vrouw", "f"), ("Female", "f"), ("femme", "f"), ("féminin", "f"), ("W", "f"),
    ("X", "x"), ("2", "2"),
])
def test_sex_codes_of_several_languages_are_one(raw, code):
    assert normalise.sex(raw) == code


def test_leap_days_exist_only_in_leap_years():
    assert normalise.birth_date("29/02/2000", today=TODAY) == PartialDate(2000, 2, 29)
    assert normalise.birth_date("29/02/1996", today=TODAY).exists
    assert not normalise.birth_date("29/02/1995", today=TODAY).exists


def test_digits_keep_what_a_date_holds_with_zero_for_unknown_parts():
    assert normalise.birth_date("31/02/1990", today=TODAY).written() == "19900231"
    assert normalise.birth_date("13/13/1990", today=TODAY).written("%Y-%m-%d") == "1990-00-13"
    assert normalise.birth_date("01/01/1984", today=TODAY).written() == "19840000"
    assert normalise.birth_date("05/1984", today=TODAY).written("%d/%m/%Y") == "00/05/1984"


@pytest.mark.parametrize("raw", ["01/02/90", "1/2/3", "yesterday", "01/02-1990", "1990-1-1x", "123456"])
def test_text_that_is_no_date_is_refused_without_repeating_it(raw):
    with pytest.raises(NormalisationError) as caught:
        normalise.birth_date(raw, today=TODAY)
    assert raw not in str(caught.value)
