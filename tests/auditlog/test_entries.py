"""Entry schema, canonical encoding and the personal-data screen."""

import datetime as dt
import json

import pytest

from linkage.auditlog import (
    InvalidEntryError,
    PersonalDataError,
    canonical_hash,
    decode_entry,
    request_entry,
    upload_entry,
    validate_entry,
)
from linkage.auditlog.entries import SCHEMAS, encode_entry

from .samples import sample_entry, sha


def insz(yymmdd: str, serial: str, born_after_2000: bool = False) -> str:
    """A valid national number, checksum per the KSZ/BCSS rule (97 - n mod 97)."""
    base = yymmdd + serial
    check = 97 - int(("2" if born_after_2000 else "") + base) % 97
    return f"{base}{check:02d}"


def test_encoding_is_canonical_whatever_the_key_order():
    when = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    a = upload_entry("vdab", "vdab", sha("x"), 10, True, "accepté")
    b = dict(reversed(list(a.items())))
    assert encode_entry(a, when) == encode_entry(b, when)
    data = encode_entry(a, when)
    assert data == (
        '{"accepted":true,"extract_hash":"' + sha("x") + '","organisation":"vdab",'
        '"reason":"accepté","record_count":10,"source":"vdab",'
        '"ts":"2025-03-01T12:00:00.000000Z","type":"upload","v":1}'
    ).encode("utf-8")
    assert decode_entry(data)["reason"] == "accepté"


def test_every_sample_entry_type_validates():
    for i in range(10):
        entry = sample_entry(i)
        assert validate_entry(entry)["type"] in SCHEMAS


def test_request_hash_is_computed_and_checked():
    request = {"cohort": "c", "dimensions": ["sex"], "measures": ["persons"]}
    entry = request_entry("statistics", "ISC/24/001", request, "granted", "ok",
                          table_hash=sha("t"), suppressed={"primary": 2})
    assert entry["request_hash"] == canonical_hash(dict(reversed(list(request.items()))))
    entry["request_hash"] = sha("something else")
    with pytest.raises(InvalidEntryError, match="request_hash"):
        validate_entry(entry)


@pytest.mark.parametrize("change,message", [
    (lambda e: e.pop("record_count"), "lacks field 'record_count'"),
    (lambda e: e.update(record_count=-1), "'record_count' must be a whole number"),
    (lambda e: e.update(record_count=True), "'record_count' must be a whole number"),
    (lambda e: e.update(accepted="yes"), "'accepted' must be true or false"),
    (lambda e: e.update(extract_hash="ABC"), "'extract_hash' must be a SHA-256"),
    (lambda e: e.update(type="Upload!"), "'type' is missing or malformed"),
    (lambda e: e.update(extra={1: "x"}), "extra has a key that is not a string"),
    (lambda e: e.update(when=dt.date(2024, 1, 1)), "entry.when is a date"),
    (lambda e: e.update(ratio=float("nan")), "encoded canonically"),
])
def test_malformed_entries_are_refused_with_the_field_named(change, message):
    entry = upload_entry("vdab", "vdab", sha("x"), 10, True, "ok")
    change(entry)
    with pytest.raises(InvalidEntryError, match=message):
        encode_entry(entry)


def test_envelope_fields_are_set_by_the_log_only():
    entry = upload_entry("vdab", "vdab", sha("x"), 10, True, "ok")
    with pytest.raises(InvalidEntryError, match="'ts' is set by the log"):
        encode_entry({**entry, "ts": "2020-01-01T00:00:00Z"})


def test_unknown_types_need_only_a_type():
    assert validate_entry({"type": "key_rotation_notice", "note": "none"})["type"] == "key_rotation_notice"


@pytest.mark.parametrize("key", [
    "name", "First Name", "birth_date", "dateOfBirth", "date-of-birth", "INSZ", "insz_token",
    "record_id", "record_ids", "email", "exact_token", "rijksregisternummer", "clk",
])
def test_keys_named_like_personal_data_are_refused(key):
    entry = upload_entry("vdab", "vdab", sha("x"), 10, True, "ok", details={key: "x"})
    with pytest.raises(PersonalDataError, match=f"entry.details.{key}"):
        validate_entry(entry)


@pytest.mark.parametrize("value", [
    insz("850731", "001"),
    insz("850731", "001")[:2] + "." + insz("850731", "001")[2:4] + "." + insz("850731", "001")[4:6]
    + "-" + insz("850731", "001")[6:9] + "." + insz("850731", "001")[9:],
    "row 12 has national number " + insz("020214", "123", born_after_2000=True) + " twice",
    insz("854731", "001"),  # a BIS number: month + 40
])
def test_values_that_are_national_numbers_are_refused_and_never_echoed(value):
    refusal = {"type": "refusal", "service": "upload", "requester": "vdab", "reason": value}
    with pytest.raises(PersonalDataError) as caught:
        validate_entry(refusal)
    assert "entry.reason" in str(caught.value)
    digits = "".join(c for c in value if c.isdigit())
    assert digits[-11:] not in "".join(c for c in str(caught.value) if c.isdigit())


def test_a_national_number_stored_as_an_integer_is_refused():
    number = int(insz("020214", "123", born_after_2000=True))  # loses its leading zero
    with pytest.raises(PersonalDataError, match=r"entry.counts\[1\]"):
        validate_entry({"type": "note", "counts": [5, number]})


def test_hashes_counts_and_ordinary_numbers_pass_the_screen():
    for i in range(300):  # hex hashes often contain long digit runs
        validate_entry(upload_entry("ksz", "ksz", sha(f"h{i}"), 10**8 + i, True, "ok",
                                    run_seconds=12.5, nis_code="44021"))
    invalid_checksum = insz("850731", "001")[:-2] + "00"
    validate_entry({"type": "note", "reference": invalid_checksum})


def test_entries_roundtrip_through_json():
    data = encode_entry(sample_entry(2))
    decoded = decode_entry(data)
    assert decoded["v"] == 1 and decoded["type"] == "request"
    assert json.dumps(decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == data
    with pytest.raises(InvalidEntryError):
        decode_entry(b"[1, 2]")
    with pytest.raises(InvalidEntryError):
        decode_entry(b"\xff")
