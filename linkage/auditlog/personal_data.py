"""Defence in depth: refuse log entries that look like they carry personal data.

The broker never sees plaintext identifiers, so nothing it logs should contain any; this
screen catches a programming mistake before it becomes permanent (a log cannot be edited).
It rejects keys named like identifying attributes and values that validate as a Belgian
national number (INSZ) or BIS number. Messages name the field, never the value.
"""

from __future__ import annotations

import functools
import re

from stdnum.be import bis, nn

from linkage.auditlog.errors import PersonalDataError

FORBIDDEN_KEYS = frozenset(
    {
        "name", "names", "first_name", "firstname", "given_name", "last_name", "lastname",
        "surname", "family_name", "full_name", "maiden_name",
        "dob", "date_of_birth", "birth_date", "birthdate", "birthday", "birth_place",
        "insz", "niss", "ssin", "rrn", "nn", "national_number", "bis", "bis_number",
        "record_id", "record_ids", "record_ref", "record_refs", "person_id",
        "address", "street", "house_number", "email", "phone", "telephone",
        "clk", "clks", "bloom_filter", "exact_token", "exact_tokens",
        "replaced_token", "replaced_tokens", "replaced_insz",
    }
)
"""Key names (lower case, separators as ``_``) that identify a person or a record."""

FORBIDDEN_KEY_PARTS = ("birth", "insz", "rijksregister", "national_number", "record_id")

# An INSZ is 11 digits, often written YY.MM.DD-SSS.CC; a run not touching other letters
# or digits (so that hexadecimal hashes, which mix both, never match by accident).
_INSZ_LIKE = re.compile(
    r"(?<![0-9A-Za-z])\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?![0-9A-Za-z])"
)


def _normal_key(key: str) -> str:
    return re.sub(r"[\s\-.]+", "_", key.strip().lower())


@functools.lru_cache(maxsize=4096)
def key_is_personal(key: str) -> bool:
    normal = _normal_key(key)
    return normal in FORBIDDEN_KEYS or any(part in normal for part in FORBIDDEN_KEY_PARTS)


def _is_national_number(digits: str) -> bool:
    return nn.is_valid(digits) or bis.is_valid(digits)


def text_holds_national_number(text: str) -> bool:
    return any(
        _is_national_number(re.sub(r"\D", "", match.group(0)))
        for match in _INSZ_LIKE.finditer(text)
    )


def int_is_national_number(value: int) -> bool:
    """An INSZ stored as a number loses its leading zero (births from 2000 on)."""
    return 10**9 <= value < 10**11 and _is_national_number(str(value).zfill(11))


def check_key(path: str, key: str) -> None:
    if key_is_personal(key):
        raise PersonalDataError(
            f"entry field {path} is named like personal data; the audit log must never "
            "hold personal data: log a count, a hash or a category instead"
        )


def check_value(path: str, value: object) -> None:
    if isinstance(value, bool):
        return
    if (isinstance(value, int) and int_is_national_number(value)) or (
        isinstance(value, str) and text_holds_national_number(value)
    ):
        raise PersonalDataError(
            f"entry field {path} holds a value that validates as a national number "
            "(INSZ/BIS); the audit log must never hold personal data: remove it"
        )
