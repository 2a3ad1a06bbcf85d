"""The offline log folder: what ``linkage audit fetch`` writes and ``verify`` reads.

A folder holds (format ``linkage-audit-folder/1``, documented in docs/auditlog.md):

``manifest.json``            format, log id, tree size, time of fetching
``entries.jsonl``            line i: the canonical encoding of entry i (the exact bytes hashed)
``leaf-hashes.txt``          line i: hex RFC 6962 leaf hash of entry i, as fetched
``tree-heads.jsonl``         signed tree heads, ascending by size; the last is the newest
``consistency-proofs.jsonl`` {"first", "second", "proof"} between consecutive heads
``inclusion-proofs.jsonl``   {"index", "tree_size", "proof"} for a spread of entries

The leaf hashes let the verifier say *which* entry was changed: once they hash up to the
signed root they are authentic, and an entry that no longer matches its line is located.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from linkage.auditlog.errors import AuditLogError, LogFolderError
from linkage.files import atomic_folder
from linkage.auditlog.hashing import HASH_SIZE, hash_leaf
from linkage.auditlog.tree_head import SignedTreeHead

FORMAT = "linkage-audit-folder/1"
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
LEAF_HASHES = "leaf-hashes.txt"
TREE_HEADS = "tree-heads.jsonl"
CONSISTENCY = "consistency-proofs.jsonl"
INCLUSION = "inclusion-proofs.jsonl"
FETCH_BATCH = 1000  # the gRPC audit service serves at most 1000 entries per call


class LogSource(Protocol):
    """What ``fetch_log`` needs from a log: the gRPC audit client, or an ``AuditLog``."""

    def signed_tree_head(self) -> SignedTreeHead: ...
    def entries(self, start: int, end: int) -> list[bytes]: ...
    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]: ...
    def consistency_proof(self, first: int, second: int) -> list[bytes]: ...


@dataclass(frozen=True)
class InclusionRecord:
    index: int
    tree_size: int
    proof: list[bytes]


@dataclass(frozen=True)
class ConsistencyRecord:
    first: int
    second: int
    proof: list[bytes]


def sample_indexes(tree_size: int, count: int) -> list[int]:
    """``count`` entry indexes spread evenly over the log, first and last included."""
    if tree_size <= count:
        return list(range(tree_size))
    if count <= 1:
        return [tree_size - 1][:count]
    return sorted({round(i * (tree_size - 1) / (count - 1)) for i in range(count)})


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _proof_hex(proof: list[bytes]) -> list[str]:
    return [node.hex() for node in proof]


def fetch_log(
    source: LogSource,
    folder: str | Path,
    checkpoint: SignedTreeHead | None = None,
    inclusion_sample: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> SignedTreeHead:
    """Write the log served by ``source`` into ``folder``; return the newest head.

    Tree heads already in ``folder`` (from an earlier fetch) and ``checkpoint`` are kept,
    with consistency proofs linking each to the next, so the folder keeps the history an
    auditor has seen. The folder is replaced as a whole or not at all. It does not verify:
    run ``verify_folder`` (``linkage audit verify``) on the result.
    """
    head = source.signed_tree_head()
    heads = {_head_key(h): h for h in [*_earlier_heads(Path(folder)), head]}
    if checkpoint is not None:
        heads.setdefault(_head_key(checkpoint), checkpoint)
    ordered = sorted(heads.values(), key=lambda h: (h.tree_size, h.timestamp))
    size = head.tree_size
    with atomic_folder(folder) as building:
        _write_entries(source, building, size, progress)
        with open(building / TREE_HEADS, "wb") as out:
            out.writelines(h.to_json().encode() + b"\n" for h in ordered)
        sizes = sorted({h.tree_size for h in ordered if h.tree_size <= size})
        with open(building / CONSISTENCY, "wb") as out:
            for first, second in zip(sizes, sizes[1:]):
                proof = source.consistency_proof(first, second)
                out.write(_line({"first": first, "second": second, "proof": _proof_hex(proof)}))
        with open(building / INCLUSION, "wb") as out:
            for index in sample_indexes(size, inclusion_sample):
                proof = source.inclusion_proof(index, size)
                out.write(_line({"index": index, "tree_size": size, "proof": _proof_hex(proof)}))
        manifest = {
            "format": FORMAT,
            "log_id": head.log_id.hex(),
            "tree_size": size,
            "fetched_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (building / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return head


def _head_key(head: SignedTreeHead) -> tuple[int, bytes, int]:
    return head.tree_size, head.root_hash, head.timestamp


def _earlier_heads(folder: Path) -> list[SignedTreeHead]:
    if not folder.exists():
        return []
    if not (folder / MANIFEST).exists():
        raise LogFolderError(
            f"{folder} exists but is not an audit log folder (no {MANIFEST}); "
            "fetch into a new folder or an earlier fetch's folder"
        )
    return LogFolder(folder).tree_heads()


def _write_entries(
    source: LogSource, building: Path, size: int, progress: Callable[[int, int], None] | None
) -> None:
    with open(building / ENTRIES, "wb") as entries, open(building / LEAF_HASHES, "wb") as hashes:
        for start in range(0, size, FETCH_BATCH):
            end = min(size, start + FETCH_BATCH)
            batch = source.entries(start, end)
            if len(batch) != end - start:
                raise AuditLogError(
                    f"asked the log for entries {start} to {end - 1} and got {len(batch)} "
                    "entries instead: the log is not serving what its tree head covers"
                )
            for offset, data in enumerate(batch):
                if b"\n" in data:
                    raise AuditLogError(
                        f"the log served entry {start + offset} with a line break: it is not "
                        "a canonical entry"
                    )
                entries.write(data + b"\n")
                hashes.write(hash_leaf(data).hex().encode() + b"\n")
            if progress:
                progress(end, size)


class LogFolder:
    """Reads a log folder, naming the file and line of anything malformed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise LogFolderError(f"{self.path} is not a folder; give the folder 'fetch' wrote")
        self.manifest = self._manifest()

    def _file(self, name: str) -> Path:
        path = self.path / name
        if not path.is_file():
            raise LogFolderError(f"{path} is missing: the log folder is incomplete; fetch it again")
        return path

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads(self._file(MANIFEST).read_text())
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LogFolderError(f"{self.path / MANIFEST} is not a {FORMAT} manifest")
        return data

    def _json_lines(self, name: str) -> Iterator[tuple[int, Any]]:
        with open(self._file(name), "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    yield number, json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise LogFolderError(f"{name} line {number} is not valid JSON") from None

    def tree_heads(self) -> list[SignedTreeHead]:
        heads = []
        for number, data in self._json_lines(TREE_HEADS):
            try:
                heads.append(SignedTreeHead.from_dict(data))
            except AuditLogError as exc:
                raise LogFolderError(f"{TREE_HEADS} line {number}: {exc}") from None
        return heads

    def _proof(self, name: str, number: int, data: Any, fields: tuple[str, ...]) -> list[Any]:
        values = [data.get(f) if isinstance(data, dict) else None for f in fields]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise LogFolderError(f"{name} line {number}: needs whole numbers {', '.join(fields)}")
        try:
            proof = [bytes.fromhex(node) for node in data.get("proof")]
        except (TypeError, ValueError):
            proof = None
        if proof is None or any(len(node) != HASH_SIZE for node in proof):
            raise LogFolderError(f"{name} line {number}: 'proof' must be a list of hex hashes")
        return [*values, proof]

    def consistency_proofs(self) -> list[ConsistencyRecord]:
        fields = ("first", "second")
        return [
            ConsistencyRecord(*self._proof(CONSISTENCY, number, data, fields))
            for number, data in self._json_lines(CONSISTENCY)
        ]

    def inclusion_proofs(self) -> list[InclusionRecord]:
        fields = ("index", "tree_size")
        return [
            InclusionRecord(*self._proof(INCLUSION, number, data, fields))
            for number, data in self._json_lines(INCLUSION)
        ]

    def entries(self) -> Iterator[bytes]:
        """The raw entries, in order, without their line feeds."""
        with open(self._file(ENTRIES), "rb") as handle:
            for line in handle:
                yield line[:-1] if line.endswith(b"\n") else line

    def leaf_hashes(self) -> Iterator[bytes]:
        """Stored leaf hashes in order; a line that is not a hex hash gives ``b""``."""
        with open(self._file(LEAF_HASHES), "rb") as handle:
            for line in handle:
                try:
                    value = bytes.fromhex(line.decode("ascii").strip())
                except (UnicodeDecodeError, ValueError):
                    value = b""
                yield value if len(value) == HASH_SIZE else b""
