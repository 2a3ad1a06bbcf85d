"""Errors raised by disclosure control; each message says what is wrong and what to do."""

from __future__ import annotations

from linkage.errors import LinkageError


class DisclosureError(LinkageError):
    """Base class for disclosure-control errors."""


class TableError(DisclosureError):
    """The table given to protect is malformed (dimensions, counts or numerators)."""


class ThresholdError(DisclosureError):
    """The threshold k is below the system minimum or otherwise unusable."""


CANNOT_RELEASE = (
    "the table cannot be released safely together with the tables released before on the same "
    "persons (by any requester); ask for a coarser table or other dimensions")
"""The one refusal text: which cell, which earlier release or which rule failed would say
where a small group is, so no refusal says it."""


class ProtectionRefused(DisclosureError):
    """The table cannot be released safely, alone or together with earlier releases."""


class LedgerError(DisclosureError):
    """The release ledger is unreadable or inconsistent with the request."""


UNFINISHED = ("the audit of this table against the tables released before on the same persons did "
              "not finish in the time allowed; nothing was released or recorded. Try again later, "
              "or ask for a smaller table")


class AuditUnfinished(DisclosureError):
    """The audit did not finish in the time allowed, or the ledger kept changing under it.
    Nothing was released or recorded; the same request may succeed later (retryable)."""

    def __init__(self, message: str = UNFINISHED) -> None:
        super().__init__(message)
