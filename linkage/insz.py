"""The Belgian national number (INSZ/NISS: a national-register or a BIS number) and its
keyed exact token.

A valid number becomes its kind (one byte: register or BIS number) and HMAC-SHA-256 over
its 11-digit compact form (31 bytes), keyed with a key that HKDF derives from the linkage
secret with its own ``info`` string (so it is independent of the CLK keys). The broker sees
only the token; without the secret it cannot test a guessed number. Invalid and missing
numbers get no token: they are counted, never guessed at.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from stdnum.be import bis, nn
from stdnum.exceptions import InvalidChecksum, ValidationError

from linkage.errors import LinkageError

TOKEN_SCHEME = "insz-kind-hmac-sha256/hkdf-sha256/v2"
"""Names how tokens are made; part of the extract fingerprint."""
KIND_BYTE = {"nn": 1, "bis": 2}
"""A token's first byte: the kind of number. The broker learns whether a record carries a
national-register or a BIS number, so that two records with different register numbers are
never linked while a BIS number later replaced by a register number still links
(docs/matching.md, "Conflicting national numbers")."""

_TOKEN_INFO = b"linkage/insz-token/v1"
TOKEN_BYTES = 32


class InvalidInsz(LinkageError, ValueError):
    """Not a valid national-register or BIS number; the message says why (never the number)."""


@dataclass(frozen=True)
class Insz:
    compact: str
    """The 11 digits, without separators."""
    kind: Literal["nn", "bis"]


def parse_insz(raw: str | None) -> Insz | None:
    """Validate a national number in any usual notation; ``None`` when the cell is empty."""
    if raw is None or not raw.strip():
        return None
    number = raw if len(raw) == 11 and raw.isascii() and raw.isdigit() else nn.compact(raw)
    if not number.isdigit():
        raise InvalidInsz("contains characters other than digits and the separators . - and space")
    if len(number) != 11:
        raise InvalidInsz(f"has {len(number)} digits instead of 11")
    if number[6:9] in ("000", "999"):
        raise InvalidInsz("has day counter 000 or 999, which are never issued")
    month = int(number[2:4])
    kind: Literal["nn", "bis"] = "bis" if month >= 20 else "nn"
    try:
        (bis if kind == "bis" else nn).validate(number)
    except ValidationError as exc:
        raise InvalidInsz(_reason(exc)) from None
    return Insz(number, kind)


def _reason(exc: ValidationError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "check digits do not match (for births from 2000 the rule prefixes a 2)"
    return "birth-date part is not a possible date or BIS month"


def token_key(secret: bytes) -> bytes:
    """The token key: HKDF-SHA-256 of the linkage secret with the token's own info string."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_TOKEN_INFO).derive(secret)


def exact_token(insz: Insz, key: bytes) -> bytes:
    """32 bytes: the kind of number (``KIND_BYTE``), then the first 31 bytes of the
    HMAC-SHA-256 of the compact number under the token key."""
    mac = hmac.digest(key, insz.compact.encode("ascii"), "sha256")
    return bytes([KIND_BYTE[insz.kind]]) + mac[:TOKEN_BYTES - 1]
