"""Offline verification of a log folder with nothing but the log's public key.

Checks, each failure reported with what and where:

1. every tree head is signed by the key given (and names that key's log id);
2. heads of equal size have equal roots, and consecutive heads are consistent (the
   stored RFC 9162 consistency proofs verify), so the log never forked;
3. the entries, hashed and folded into a Merkle tree, give the signed root of every head,
   so every entry is included and none was changed, added, removed or moved; when they do
   not, the authenticated leaf hashes say which entry differs;
4. the stored inclusion proofs verify against the newest head;
5. an auditor's earlier checkpoint is from this log and the first entries still hash to
   its root (the log was extended, not rewritten).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from linkage.auditlog.errors import InvalidProofError, InvalidSignatureError
from linkage.auditlog.folder import ENTRIES, LEAF_HASHES, TREE_HEADS, InclusionRecord, LogFolder
from linkage.auditlog.hashing import EMPTY_ROOT, CompactRange, hash_leaf
from linkage.auditlog.keys import log_id
from linkage.auditlog.proofs import verify_consistency, verify_inclusion
from linkage.auditlog.tree_head import SignedTreeHead

MAX_LOCATED = 20
"""At most this many changed entries are named one by one."""

PROGRESS_EVERY = 1 << 16


@dataclass
class VerificationReport:
    tree_size: int = 0
    entries: int = 0
    tree_heads: int = 0
    inclusion_proofs: int = 0
    consistency_proofs: int = 0
    newest: SignedTreeHead | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def newest_head(self) -> SignedTreeHead:
        """The newest signed tree head; only a log with none has no newest head, and such a
        log does not verify."""
        if self.newest is None:
            raise ValueError("the log has no signed tree head")
        return self.newest


@dataclass
class _Scan:
    """What one pass over entries.jsonl and leaf-hashes.txt yields."""

    entry_count: int = 0
    hash_count: int = 0
    entry_roots: dict[int, bytes] = field(default_factory=dict)
    stored_roots: dict[int, bytes] = field(default_factory=dict)
    leaf_hashes: dict[int, bytes] = field(default_factory=dict)
    differing: list[tuple[int, bytes]] = field(default_factory=list)
    differing_count: int = 0


def verify_folder(
    path: str | Path,
    public_key: Ed25519PublicKey,
    checkpoint: SignedTreeHead | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerificationReport:
    """Verify a log folder; the report's ``problems`` is empty when everything holds."""
    folder = LogFolder(path)
    report = VerificationReport()
    problems = report.problems
    key_log_id = log_id(public_key)
    if folder.manifest.get("log_id") != key_log_id.hex():
        problems.append(
            "manifest.json names a different log than the public key given: check that you "
            "have the broker's log.pub for this log"
        )
    heads = _signed_heads(folder, public_key, problems)
    report.tree_heads = len(heads)
    if not heads:
        problems.append(f"{TREE_HEADS} holds no tree head signed by the given key")
        return report
    newest = heads[-1]
    report.newest, report.tree_size = newest, newest.tree_size
    if folder.manifest.get("tree_size") != newest.tree_size:
        problems.append(
            f"manifest.json gives tree size {folder.manifest.get('tree_size')}, but the "
            f"newest signed tree head covers {newest.tree_size} entries"
        )
    _check_forks(heads, problems)
    inclusion = folder.inclusion_proofs()
    checkpoint_ok = checkpoint is not None and _check_checkpoint_signature(
        checkpoint, public_key, problems
    )
    sizes = {h.tree_size for h in heads} | ({checkpoint.tree_size} if checkpoint is not None and checkpoint_ok else set())
    scan = _scan(folder, sizes, {record.index for record in inclusion}, newest.tree_size, progress)
    report.entries = scan.entry_count
    _check_counts(scan, newest.tree_size, problems)
    _check_roots(folder, heads, scan, problems)
    report.consistency_proofs = _check_consistency(folder, heads, problems)
    report.inclusion_proofs = _check_inclusion(inclusion, heads, scan, problems)
    if checkpoint is not None and checkpoint_ok:
        _check_checkpoint(checkpoint, heads, scan, problems)
    return report


def _signed_heads(
    folder: LogFolder, public_key: Ed25519PublicKey, problems: list[str]
) -> list[SignedTreeHead]:
    valid = []
    for number, head in enumerate(folder.tree_heads(), start=1):
        try:
            head.verify(public_key)
        except InvalidSignatureError as exc:
            problems.append(f"{TREE_HEADS} line {number}: {exc}")
            continue
        valid.append(head)
    return sorted(valid, key=lambda h: (h.tree_size, h.timestamp))


def _check_forks(heads: list[SignedTreeHead], problems: list[str]) -> None:
    by_size: dict[int, SignedTreeHead] = {}
    for head in heads:
        other = by_size.setdefault(head.tree_size, head)
        if not hmac.compare_digest(other.root_hash, head.root_hash):
            problems.append(
                f"fork: the log signed two different roots for tree size {head.tree_size} "
                f"({other.describe()} and {head.describe()}); the log was rewritten"
            )


def _scan(
    folder: LogFolder, sizes: set[int], wanted: set[int], tree_size: int,
    progress: Callable[[int, int], None] | None,
) -> _Scan:
    """One pass: roots at every head size from the entries and from the stored leaf hashes."""
    scan = _Scan()
    from_entries, from_stored = CompactRange(), CompactRange()
    if 0 in sizes:
        scan.entry_roots[0] = scan.stored_roots[0] = EMPTY_ROOT
    for index, (entry, stored) in enumerate(zip_longest(folder.entries(), folder.leaf_hashes())):
        if stored is not None:
            scan.hash_count += 1
            if stored and from_stored.size == index:  # stops at the first malformed line
                from_stored.append(stored)
                if from_stored.size in sizes:
                    scan.stored_roots[from_stored.size] = from_stored.root()
        if entry is None:
            continue
        leaf = hash_leaf(entry)
        from_entries.append(leaf)
        scan.entry_count += 1
        if index in wanted:
            scan.leaf_hashes[index] = leaf
        if from_entries.size in sizes:
            scan.entry_roots[from_entries.size] = from_entries.root()
        if leaf != stored:
            scan.differing_count += 1
            if len(scan.differing) < MAX_LOCATED:
                scan.differing.append((index, leaf))
        if progress and index % PROGRESS_EVERY == 0:
            progress(index, tree_size)
    if progress:
        progress(scan.entry_count, tree_size)
    return scan


def _check_counts(scan: _Scan, tree_size: int, problems: list[str]) -> None:
    if scan.entry_count < tree_size:
        problems.append(
            f"{ENTRIES} holds {scan.entry_count} entries but the newest signed tree head covers "
            f"{tree_size}: entries {scan.entry_count} to {tree_size - 1} are missing "
            "(the folder was truncated or entries were deleted)"
        )
    elif scan.entry_count > tree_size:
        problems.append(
            f"{ENTRIES} holds {scan.entry_count} entries, more than the {tree_size} the newest "
            f"signed tree head covers: entries {tree_size} to {scan.entry_count - 1} are not "
            "signed by the log (added or inserted)"
        )
    if scan.hash_count != scan.entry_count:
        problems.append(
            f"{LEAF_HASHES} has {scan.hash_count} lines for {scan.entry_count} entries"
        )


def _check_roots(
    folder: LogFolder, heads: list[SignedTreeHead], scan: _Scan, problems: list[str]
) -> None:
    """Entries against signed roots; locate changed entries with authenticated leaf hashes."""
    broken = [
        h for h in heads
        if h.tree_size <= scan.entry_count
        and not hmac.compare_digest(scan.entry_roots[h.tree_size], h.root_hash)
    ]
    newest = heads[-1]
    stored_root = scan.stored_roots.get(newest.tree_size)
    stored_authentic = stored_root is not None and hmac.compare_digest(stored_root, newest.root_hash)
    for head in broken:
        problems.append(
            f"the first {head.tree_size} entries in {ENTRIES} do not hash to the root of the "
            f"signed {head.describe()}: entries were changed, added, removed or reordered"
        )
    if not scan.differing:
        if broken:
            problems.append(
                f"{LEAF_HASHES} was changed along with the entries, so it cannot name the "
                "changed entries; a failing inclusion proof below names any it covers"
            )
        return
    if stored_authentic:
        positions = _positions(folder, {leaf for _, leaf in scan.differing})
        for index, leaf in scan.differing:
            where = positions.get(leaf)
            moved = (
                f"; it is the entry the log signed at position {where} (entries were deleted, "
                "inserted or reordered)" if where is not None and where != index else ""
            )
            problems.append(
                f"entry {index} (line {index + 1} of {ENTRIES}) differs from the entry the log "
                f"signed at position {index}{moved}"
            )
        if scan.differing_count > len(scan.differing):
            problems.append(f"… and {scan.differing_count - len(scan.differing)} more entries differ")
    elif not broken and scan.entry_count == newest.tree_size:
        index = scan.differing[0][0]
        problems.append(
            f"{LEAF_HASHES} line {index + 1} does not match entry {index}, though the entries "
            f"match the signed tree: {LEAF_HASHES} was altered"
        )
    else:
        problems.append(
            f"{LEAF_HASHES} was altered too, so the changed entries cannot be named; the first "
            f"entry that does not match its stored leaf hash is entry {scan.differing[0][0]}"
        )


def _positions(folder: LogFolder, leaves: set[bytes]) -> dict[bytes, int]:
    """Where the given leaf hashes occur in the (authenticated) stored leaf hashes."""
    found: dict[bytes, int] = {}
    for index, stored in enumerate(folder.leaf_hashes()):
        if stored in leaves:
            found.setdefault(stored, index)
    return found


def _check_consistency(folder: LogFolder, heads: list[SignedTreeHead], problems: list[str]) -> int:
    roots = {h.tree_size: h.root_hash for h in heads}
    checked = set()
    for record in folder.consistency_proofs():
        pair = (record.first, record.second)
        if record.first not in roots or record.second not in roots:
            problems.append(
                f"consistency proof from size {record.first} to {record.second} refers to a "
                f"tree size for which {TREE_HEADS} holds no validly signed head"
            )
            continue
        try:
            verify_consistency(*pair, roots[record.first], roots[record.second], record.proof)
        except InvalidProofError as exc:
            problems.append(
                f"fork: the signed tree heads of sizes {record.first} and {record.second} are not "
                f"consistent ({exc}); the log was rewritten between them"
            )
        checked.add(pair)
    sizes = sorted(roots)
    for pair in zip(sizes, sizes[1:]):
        if pair not in checked and pair[0] > 0:
            problems.append(
                f"no consistency proof between the signed tree heads of sizes {pair[0]} and "
                f"{pair[1]}: the folder is incomplete; fetch it again"
            )
    return len(checked)


def _check_inclusion(
    records: list[InclusionRecord], heads: list[SignedTreeHead], scan: _Scan,
    problems: list[str],
) -> int:
    roots = {h.tree_size: h.root_hash for h in heads}
    verified = 0
    for record in records:
        if record.tree_size not in roots:
            problems.append(
                f"inclusion proof for entry {record.index} refers to tree size "
                f"{record.tree_size}, for which {TREE_HEADS} holds no validly signed head"
            )
        elif record.index not in scan.leaf_hashes:
            problems.append(f"inclusion proof for entry {record.index}: the entry is missing")
        else:
            try:
                verify_inclusion(
                    scan.leaf_hashes[record.index], record.index, record.tree_size,
                    record.proof, roots[record.tree_size],
                )
                verified += 1
            except InvalidProofError as exc:
                problems.append(f"entry {record.index} is not proven included: {exc}")
    return verified


def _check_checkpoint_signature(
    checkpoint: SignedTreeHead, public_key: Ed25519PublicKey, problems: list[str]
) -> bool:
    try:
        checkpoint.verify(public_key)
        return True
    except InvalidSignatureError as exc:
        problems.append(f"checkpoint: {exc}")
        return False


def _check_checkpoint(
    checkpoint: SignedTreeHead, heads: list[SignedTreeHead], scan: _Scan, problems: list[str]
) -> None:
    size = checkpoint.tree_size
    newest = heads[-1]
    if size > newest.tree_size:
        problems.append(
            f"checkpoint: your checkpoint covers {size} entries but the log now covers only "
            f"{newest.tree_size}: the log was truncated or rolled back"
        )
        return
    for head in heads:
        if head.tree_size == size and not hmac.compare_digest(head.root_hash, checkpoint.root_hash):
            problems.append(
                f"fork: your checkpoint ({checkpoint.describe()}) and the log's "
                f"{head.describe()} have different roots for the same size"
            )
            return
    root = scan.entry_roots.get(size)
    if root is not None and not hmac.compare_digest(root, checkpoint.root_hash):
        problems.append(
            f"checkpoint: the first {size} entries no longer hash to the root of your checkpoint "
            f"({checkpoint.describe()}): the log was rewritten or forked after it"
        )
