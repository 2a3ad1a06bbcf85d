"""What a refusal may carry into the permanent audit log.

The audit log can never be edited, and a refusal must be recorded whatever the caller
sent. Two screens keep personal data out of it:

- :func:`redact` replaces whatever the log's personal-data screen would refuse (values
  that validate as a national number, keys named like identifying attributes) so that the
  entry is written with the offending fields redacted instead of being dropped;
- :func:`screen_request` keeps, of a refused statistics request, only the names the
  registry or the policy knows; any other text a requester typed (which may be a name) is
  replaced by its length, here and wherever the refusal's reason repeats it.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from linkage.aggregate import registry
from linkage.aggregate.dimensions import parse_dimension
from linkage.auditlog.personal_data import int_is_national_number, key_is_personal, text_holds_national_number
from linkage.errors import LinkageError
from server.policy import Policy

REDACTED = "[redacted: looked like personal data]"


def redact(value: Any) -> tuple[Any, int]:
    """A copy of ``value`` without anything that looks like personal data, and how many
    fields were redacted (keys named like personal data are dropped)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value, 0
    if isinstance(value, int):
        return (REDACTED, 1) if int_is_national_number(value) else (value, 0)
    if isinstance(value, str):
        return (REDACTED, 1) if text_holds_national_number(value) else (value, 0)
    if isinstance(value, Mapping):
        out, count = {}, 0
        for key, item in value.items():
            if not isinstance(key, str) or key_is_personal(key) or text_holds_national_number(key):
                count += 1
                continue
            out[key], inner = redact(item)
            count += inner
        return out, count
    if isinstance(value, (list, tuple)):
        pairs = [redact(item) for item in value]
        return [item for item, _ in pairs], sum(count for _, count in pairs)
    return str(type(value).__name__), 1


def _registered(field: str, text: str, policy: Policy) -> bool:
    if text_holds_national_number(text):
        return False
    if field == "authorisation":
        return policy.authorisation(text) is not None
    if field == "population":
        return text in registry.POPULATIONS
    if field == "measures":
        return text in registry.MEASURES
    if field == "reference_date":
        try:
            _dt.date.fromisoformat(text)
        except ValueError:
            return False
        return True
    if field == "dimensions":
        try:
            parse_dimension(text)
        except LinkageError:
            return False
        return True
    return False


def _placeholder(text: str) -> str:
    return f"[unregistered text, {len(text)} characters]"


def screen_request(fields: Mapping[str, Any], reason: str, policy: Policy) -> tuple[dict[str, Any], str]:
    """The refused request's fields and reason as they may be logged."""
    replaced: list[str] = []

    def screen(field: str, value: Any) -> Any:
        if isinstance(value, str) and not _registered(field, value, policy):
            replaced.append(value)
            return _placeholder(value)
        if isinstance(value, list):
            return [screen(field, item) for item in value]
        return redact(value)[0]

    screened = {key: screen(key, value) for key, value in fields.items() if isinstance(key, str)}
    for text in sorted(replaced, key=len, reverse=True):
        reason = reason.replace(repr(text), _placeholder(text))
        if len(text) >= 3:  # shorter text would match inside ordinary words
            reason = reason.replace(text, _placeholder(text))
    return screened, redact(reason)[0]
