"""Errors raised by disclosure control; each message says what is wrong and what to do."""

from __future__ import annotations

from linkage.errors import LinkageError


class DisclosureError(LinkageError):
    """Base class for disclosure-control errors."""


class TableError(DisclosureError):
    """The table given to protect is malformed (dimensions, counts or numerators)."""


class ThresholdError(DisclosureError):
    """The threshold k is below the system minimum or otherwise unusable."""


class ProtectionRefused(DisclosureError):
    """The table cannot be released safely, alone or together with earlier releases."""


class LedgerError(DisclosureError):
    """The release ledger is unreadable or inconsistent with the request."""
