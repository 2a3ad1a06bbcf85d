"""Signed tree heads: what the log commits to, signed with its Ed25519 key.

The signature covers this fixed-length byte string (all integers big-endian)::

    b"linkage-audit-tree-head-v1\\n"   27 bytes, domain separation
    log_id                             32 bytes, SHA-256 of the public key (DER SPKI)
    tree_size                           8 bytes, unsigned
    timestamp                           8 bytes, unsigned, milliseconds since 1970 UTC
    root_hash                          32 bytes, RFC 6962 Merkle tree hash

The JSON form (``to_json``) carries the same fields, bytes as lower-case hexadecimal.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import struct
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from linkage.auditlog.errors import AuditLogError, InvalidSignatureError
from linkage.auditlog.hashing import HASH_SIZE
from linkage.auditlog.keys import log_id as log_id_of

DOMAIN = b"linkage-audit-tree-head-v1\n"
SIGNATURE_SIZE = 64
FORMAT = "linkage-audit-tree-head/1"


def signed_bytes(log_id: bytes, tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    return DOMAIN + log_id + struct.pack(">QQ", tree_size, timestamp) + root_hash


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: int
    """Milliseconds since 1970-01-01 UTC."""
    signature: bytes
    log_id: bytes

    def describe(self) -> str:
        when = dt.datetime.fromtimestamp(self.timestamp / 1000, dt.timezone.utc)
        return f"tree head of size {self.tree_size} signed {when:%Y-%m-%d %H:%M:%S} UTC"

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise ``InvalidSignatureError`` unless ``public_key``'s log signed this head."""
        expected = log_id_of(public_key)
        if not hmac.compare_digest(self.log_id, expected):
            raise InvalidSignatureError(
                f"{self.describe()} names log {self.log_id.hex()[:16]}…, but the public key "
                f"given is that of log {expected.hex()[:16]}…: it comes from a different log "
                "or the wrong public key was given"
            )
        try:
            public_key.verify(
                self.signature,
                signed_bytes(self.log_id, self.tree_size, self.timestamp, self.root_hash),
            )
        except InvalidSignature:
            raise InvalidSignatureError(
                f"{self.describe()}: the signature does not verify with the log's public key; "
                "the head was altered or forged"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "log_id": self.log_id.hex(),
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "root_hash": self.root_hash.hex(),
            "signature": self.signature.hex(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> SignedTreeHead:
        def field(name: str, kind: type) -> Any:
            value = data.get(name) if isinstance(data, dict) else None
            if not isinstance(value, kind) or isinstance(value, bool):
                raise AuditLogError(f"a signed tree head lacks a valid '{name}' field")
            return value

        def hex_field(name: str, size: int) -> bytes:
            try:
                value = bytes.fromhex(field(name, str))
            except ValueError:
                value = b""
            if len(value) != size:
                raise AuditLogError(
                    f"a signed tree head's '{name}' must be {size} bytes in hexadecimal"
                )
            return value

        if field("format", str) != FORMAT:
            raise AuditLogError(f"a signed tree head must have format {FORMAT}")
        tree_size, timestamp = field("tree_size", int), field("timestamp", int)
        if not (0 <= tree_size < 2**64 and 0 <= timestamp < 2**64):
            raise AuditLogError("a signed tree head's size and timestamp must fit in 64 bits")
        return cls(
            tree_size=tree_size,
            root_hash=hex_field("root_hash", HASH_SIZE),
            timestamp=timestamp,
            signature=hex_field("signature", SIGNATURE_SIZE),
            log_id=hex_field("log_id", HASH_SIZE),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedTreeHead:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise AuditLogError("a signed tree head is not valid JSON") from None
        return cls.from_dict(data)


def sign_tree_head(
    key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp: int | None = None
) -> SignedTreeHead:
    ident = log_id_of(key.public_key())
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    signature = key.sign(signed_bytes(ident, tree_size, timestamp, root_hash))
    return SignedTreeHead(tree_size, root_hash, timestamp, signature, ident)
