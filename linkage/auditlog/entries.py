"""Log entries: the schema per type, validation and the canonical byte encoding.

An entry is a JSON object. Its canonical encoding, which is what the Merkle tree hashes,
is UTF-8 JSON with keys sorted by code point, no insignificant whitespace, non-ASCII
characters written as themselves, and no NaN or infinity (``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False, allow_nan=False)``). The log adds two envelope
fields to every entry: ``v`` (the entry schema version) and ``ts`` (UTC time of appending,
``YYYY-MM-DDTHH:MM:SS.ffffffZ``). The encoding never contains a raw line feed, so one
entry fits on one line of the offline folder's ``entries.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from linkage.auditlog.errors import InvalidEntryError
from linkage.auditlog.personal_data import check_key, check_value

ENTRY_VERSION = 1
ENVELOPE = ("v", "ts")

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
DECISIONS = ("granted", "refused")


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hex64(value: Any) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _hex64_or_none(value: Any) -> bool:
    return value is None or _hex64(value)


def _mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _counts_by_reason(value: Any) -> bool:
    return isinstance(value, Mapping) and all(_count(v) for v in value.values())


_KINDS = {
    "text": (_text, "a non-empty string"),
    "count": (_count, "a whole number of at least 0"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "sha256": (_hex64, "a SHA-256 hash as 64 lower-case hexadecimal characters"),
    "sha256?": (_hex64_or_none, "a SHA-256 hash in hexadecimal, or null"),
    "object": (_mapping, "a JSON object"),
    "decision": (lambda v: v in DECISIONS, "'granted' or 'refused'"),
    "counts": (_counts_by_reason, "an object mapping each reason to a count"),
}

SCHEMAS: dict[str, dict[str, str]] = {
    "upload": {
        "organisation": "text", "source": "text", "extract_hash": "sha256",
        "record_count": "count", "accepted": "bool", "reason": "text",
    },
    "run": {"run_id": "text", "parameters": "object", "quality": "object"},
    "request": {
        "requester": "text", "authorisation": "text", "request": "object",
        "request_hash": "sha256", "decision": "decision", "reason": "text",
        "table_hash": "sha256?", "suppressed": "counts",
    },
    "refusal": {"service": "text", "requester": "text", "reason": "text"},
    "policy": {"policy_hash": "sha256", "reason": "text"},
}
"""Required fields per entry type and their kind. Further fields are allowed (and screened
for personal data); entry types not listed here need only a ``type``."""


def _plain(value: Any, path: str) -> Any:
    """Copy ``value`` as plain JSON types, screening every key and value on the way."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str | int):
        check_value(path, value)
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidEntryError(f"entry field {path} has a key that is not a string")
            check_key(f"{path}.{key}", key)
            out[key] = _plain(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidEntryError(
        f"entry field {path} is a {type(value).__name__}; entries hold only JSON values "
        "(object, array, string, number, true/false, null): convert it first"
    )


def canonical_json(value: Any) -> bytes:
    """The canonical encoding of any JSON value (also used to hash requests)."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidEntryError(
            f"the entry cannot be encoded canonically ({exc}); use finite numbers and "
            "valid Unicode text"
        ) from None


def canonical_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical encoding, e.g. of a normalised request or a table."""
    return hashlib.sha256(canonical_json(_plain(value, "value"))).hexdigest()


def validate_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Check an entry against its schema and the personal-data screen; return a plain copy."""
    if not isinstance(entry, Mapping):
        raise InvalidEntryError("an entry must be a mapping of field names to JSON values")
    plain = _plain(entry, "entry")
    kind = plain.get("type")
    if not isinstance(kind, str) or not _TYPE.fullmatch(kind):
        raise InvalidEntryError(
            "entry field 'type' is missing or malformed: give a lower-case name such as "
            f"{', '.join(SCHEMAS)}"
        )
    for field, field_kind in SCHEMAS.get(kind, {}).items():
        check, wanted = _KINDS[field_kind]
        if field not in plain:
            raise InvalidEntryError(f"{kind} entry lacks field '{field}' ({wanted})")
        if not check(plain[field]):
            raise InvalidEntryError(f"{kind} entry field '{field}' must be {wanted}")
    if kind == "request" and plain["request_hash"] != canonical_hash(plain["request"]):
        raise InvalidEntryError(
            "request entry field 'request_hash' is not the SHA-256 of the canonical "
            "request: compute it with canonical_hash(request)"
        )
    return plain


def utc_timestamp(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_entry(entry: Mapping[str, Any], now: dt.datetime | None = None) -> bytes:
    """Validate, add the envelope (``v``, ``ts``) and encode canonically."""
    for field in ENVELOPE:
        if field in entry:
            raise InvalidEntryError(
                f"entry field '{field}' is set by the log when appending; leave it out"
            )
    plain = validate_entry(entry)
    plain["v"] = ENTRY_VERSION
    plain["ts"] = utc_timestamp(now)
    return canonical_json(plain)


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse an encoded entry; raise ``InvalidEntryError`` if it is not a JSON object."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidEntryError("the entry is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise InvalidEntryError("the entry is not a JSON object")
    return value


def upload_entry(
    organisation: str, source: str, extract_hash: str, record_count: int,
    accepted: bool, reason: str, **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "upload", "organisation": organisation, "source": source,
        "extract_hash": extract_hash, "record_count": record_count,
        "accepted": accepted, "reason": reason, **extra,
    }


def run_entry(
    run_id: str, parameters: Mapping[str, Any], quality: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    return {"type": "run", "run_id": run_id, "parameters": parameters, "quality": quality,
            **extra}


def request_entry(
    requester: str, authorisation: str, request: Mapping[str, Any], decision: str,
    reason: str, table_hash: str | None = None,
    suppressed: Mapping[str, int] | None = None, **extra: Any,
) -> dict[str, Any]:
    """A statistics request and its decision; ``request_hash`` is computed here."""
    return {
        "type": "request", "requester": requester, "authorisation": authorisation,
        "request": request, "request_hash": canonical_hash(request), "decision": decision,
        "reason": reason, "table_hash": table_hash, "suppressed": dict(suppressed or {}),
        **extra,
    }


def refusal_entry(service: str, requester: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"type": "refusal", "service": service, "requester": requester, "reason": reason,
            **extra}


def policy_entry(policy_hash: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"type": "policy", "policy_hash": policy_hash, "reason": reason, **extra}
