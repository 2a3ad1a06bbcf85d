"""The tamper-evident audit log: a Merkle tree (RFC 6962/9162) with signed tree heads.

Every upload, linkage run, statistics request and its decision, refusal and policy change
is appended here; auditors fetch the entries with proofs and verify them offline with the
log's public key (``linkage audit verify``). The log never holds personal data.
"""

from linkage.auditlog.entries import (
    canonical_hash,
    canonical_json,
    decode_entry,
    policy_entry,
    refusal_entry,
    request_entry,
    run_entry,
    upload_entry,
    validate_entry,
)
from linkage.auditlog.errors import (
    AuditLogError,
    InvalidEntryError,
    InvalidProofError,
    InvalidSignatureError,
    LogFolderError,
    PersonalDataError,
)
from linkage.auditlog.folder import LogSource, fetch_log
from linkage.auditlog.keys import generate_log_keypair, load_public_key, load_signing_key, log_id
from linkage.auditlog.log import AuditLog
from linkage.auditlog.proofs import verify_consistency, verify_inclusion
from linkage.auditlog.tree_head import SignedTreeHead
from linkage.signing_keys import KeyFileError
from linkage.auditlog.verify import VerificationReport, verify_folder

__all__ = [
    "AuditLog", "AuditLogError", "InvalidEntryError", "InvalidProofError",
    "InvalidSignatureError", "KeyFileError", "LogFolderError", "LogSource",
    "PersonalDataError", "SignedTreeHead", "VerificationReport", "canonical_hash",
    "canonical_json", "decode_entry", "fetch_log", "generate_log_keypair", "load_public_key",
    "load_signing_key", "log_id", "policy_entry", "refusal_entry", "request_entry",
    "run_entry", "upload_entry", "validate_entry", "verify_consistency", "verify_folder",
    "verify_inclusion",
]
