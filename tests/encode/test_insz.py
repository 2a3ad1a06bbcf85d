"""National numbers: checksum validation (national register and BIS) and keyed tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.insz import InvalidInsz, exact_token, parse_insz, token_key

from .helpers import national_number

births = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2024, 12, 31))
counters = st.integers(min_value=1, max_value=998)


@settings(max_examples=300, deadline=None)
@given(births, counters)
def test_national_register_numbers_with_correct_checksums_are_valid(birth, counter):
    number = national_number(birth, counter)
    parsed = parse_insz(number)
    assert parsed is not None and parsed.kind == "nn" and parsed.compact == number
    dotted = f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
    assert parse_insz(dotted) == parsed


@settings(max_examples=200, deadline=None)
@given(births, counters, st.sampled_from([20, 40]))
def test_bis_numbers_are_valid(birth, counter, offset):
    parsed = parse_insz(national_number(birth, counter, bis_offset=offset))
    assert parsed is not None and parsed.kind == "bis"


@settings(max_examples=200, deadline=None)
@given(births, counters, st.integers(min_value=1, max_value=96))
def test_a_wrong_checksum_is_refused(birth, counter, shift):
    number = national_number(birth, counter)
    wrong = number[:9] + f"{(int(number[9:]) + shift - 1) % 97 + 1:02d}"
    base = int(number[:9])
    # A checksum valid for the other century is a real number of someone born 100 years
    # apart (000101-001 is 1 January 1900 or 2000): not a wrong checksum.
    valid_checksums = {97 - base % 97, 97 - (2_000_000_000 + base) % 97}
    if int(wrong[9:]) in valid_checksums:
        return
    with pytest.raises(InvalidInsz):
        parse_insz(wrong)


def test_born_after_2000_checksum_uses_the_prefixed_number():
    born_2005 = national_number(dt.date(2005, 3, 14), 123)
    born_1905 = national_number(dt.date(1905, 3, 14), 123)
    assert born_2005[:9] == born_1905[:9] and born_2005[9:] != born_1905[9:]
    assert parse_insz(born_2005).compact == born_2005
    assert parse_insz(born_1905).compact == born_1905
    # A prefixed checksum for a year still to come cannot be right.
    with pytest.raises(InvalidInsz):
        parse_insz(national_number(dt.date(2095, 3, 14), 123))


def _with_checksum(nine_digits: str) -> str:
    return nine_digits + f"{97 - int(nine_digits) % 97:02d}"


@pytest.mark.parametrize("raw, fragment", [
    ("8507300332", "10 digits"),
    ("850730033281", "12 digits"),
    ("85073O03328", "characters"),
    ("85073000028", "counter"),
    (_with_checksum("851330033"), "month"),
    (_with_checksum("856030033"), "month"),
])
def test_malformed_numbers_are_refused(raw, fragment):
    with pytest.raises(InvalidInsz) as caught:
        parse_insz(raw)
    assert fragment in str(caught.value)
    assert raw not in str(caught.value)


def test_empty_is_missing_not_invalid():
    assert parse_insz("") is None
    assert parse_insz("   ") is None
    assert parse_insz(None) is None


def test_tokens_are_keyed_deterministic_and_never_the_number():
    insz = parse_insz(national_number(dt.date(1985, 7, 30), 33))
    key = token_key(b"secret one, shared by the providers")
    token = exact_token(insz, key)
    assert len(token) == 32
    assert token == exact_token(parse_insz("85.07.30-033." + insz.compact[-2:]), key)
    assert token != exact_token(insz, token_key(b"another secret, another project"))
    assert insz.compact.encode() not in token
    assert insz.compact not in token.hex()
    other = parse_insz(national_number(dt.date(1985, 7, 30), 35))
    assert exact_token(other, key) != token


def test_token_key_is_not_the_secret():
    secret = b"x" * 32
    assert token_key(secret) != secret
    assert len(token_key(secret)) == 32
