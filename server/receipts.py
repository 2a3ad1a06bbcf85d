"""Upload receipts: a canonical JSON statement signed by the broker with Ed25519.

The provider keeps the receipt as proof that the broker accepted its extract; anyone
holding the broker's ``receipt.pub`` can verify it (``linkage receipt verify``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from linkage.auditlog import canonical_json
from linkage.errors import LinkageError

RECEIPT_TYPE = "linkage-upload-receipt/1"


class ReceiptError(LinkageError):
    """A receipt does not verify, or is not a receipt."""


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_receipt(key: Ed25519PrivateKey, facts: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """Return (statement, signature) for the upload ``facts``."""
    statement = canonical_json({**facts, "type": RECEIPT_TYPE, "broker_key_id": key_id(key.public_key())})
    return statement, key.sign(statement)


def verify_receipt(statement: bytes, signature: bytes, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The receipt's facts, or ReceiptError when the signature or the content is wrong."""
    try:
        public_key.verify(signature, statement)
    except InvalidSignature:
        raise ReceiptError(
            "the receipt's signature does not verify with this broker key: the receipt was "
            "altered, or comes from another broker"
        ) from None
    try:
        facts = json.loads(statement)
    except ValueError:
        raise ReceiptError("the receipt statement is not JSON") from None
    if not isinstance(facts, dict) or facts.get("type") != RECEIPT_TYPE:
        raise ReceiptError(f"this is not an upload receipt ({RECEIPT_TYPE})")
    return facts
