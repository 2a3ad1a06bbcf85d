"""An auditor's checkpoint: a verified signed tree head kept in a file.

The file holds the head's JSON (``SignedTreeHead.to_json()``) and a line feed. A later
verification with ``--checkpoint`` proves the log grew from that head without rewriting it.
"""

from __future__ import annotations

from pathlib import Path

from linkage.auditlog.errors import AuditLogError
from linkage.files import atomic_file
from linkage.auditlog.tree_head import SignedTreeHead


def read_checkpoint(path: str | Path) -> SignedTreeHead:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise AuditLogError(f"cannot read the checkpoint {path} ({reason})") from None
    try:
        return SignedTreeHead.from_json(text)
    except AuditLogError as exc:
        raise AuditLogError(
            f"{path} is not a checkpoint ({exc}); make one with 'linkage audit checkpoint'"
        ) from None


def write_checkpoint(path: str | Path, head: SignedTreeHead) -> None:
    with atomic_file(path) as handle:
        handle.write(head.to_json().encode() + b"\n")
