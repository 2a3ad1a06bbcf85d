"""Errors of the audit log, one class per thing that can go wrong.

All are ``LinkageError``s: the command line prints their message (what is wrong, where,
and what to do) and never a traceback.
"""

from linkage.errors import LinkageError


class AuditLogError(LinkageError):
    """The audit log cannot do what was asked (bad range, unreadable database, bad key)."""


class InvalidEntryError(AuditLogError):
    """An entry does not follow the entry schema (missing field, wrong type, bad value)."""


class PersonalDataError(InvalidEntryError):
    """An entry carries a field that looks like personal data; the log must never hold any."""


class InvalidProofError(AuditLogError):
    """An inclusion or consistency proof does not verify."""


class InvalidSignatureError(AuditLogError):
    """A signed tree head is not signed by the expected key, or its signature is broken."""


class LogFolderError(AuditLogError):
    """An offline log folder is missing, incomplete or malformed."""
