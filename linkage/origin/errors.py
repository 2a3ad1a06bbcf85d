"""Errors of origin classification a user can act on."""

from __future__ import annotations

from linkage.errors import LinkageError


class OriginError(LinkageError):
    """An origin definition, grouping, code or input that cannot be used as given."""


class UnknownCodeError(OriginError, ValueError):
    """A nationality code that is in neither the NIS code table nor ISO 3166.

    `reason` says what is wrong with the value without repeating it (it is personal data);
    `field` names the history field when known.
    """

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field
