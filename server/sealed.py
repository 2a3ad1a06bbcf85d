"""Files encrypted at rest with AES-256-GCM, in authenticated records.

A sealed file is a magic line followed by records, each ``length (4 bytes, big endian) ||
nonce (12 random bytes) || ciphertext+tag``. The associated data of record ``i`` binds the
file's label (what the file is, e.g. ``extract:<sha256>``), ``i`` and whether it is the last
record, so records cannot be swapped between files, reordered, dropped or cut off without
the tag check failing. A growing file (a resumable upload) has no last record yet; its
valid prefix is every record that verifies, and a torn tail left by a crash is cut off.
When the upload is complete, the broker stores a validated copy with :func:`seal` and
discards the growing file.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import os
import struct
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.errors import LinkageError
from linkage.files import atomic_file

MAGIC = b"LKSEAL1\n"
RECORD_BYTES = 4 * 1024 * 1024
_NONCE = 12
_TAG = 16
_LENGTH = struct.Struct(">I")


class SealedFileError(LinkageError):
    """A sealed file is damaged, truncated, or was sealed with another key."""


def _aad(label: bytes, index: int, last: bool) -> bytes:
    return label + b"\x00" + struct.pack(">QB", index, 1 if last else 0)


def _encrypt(aead: AESGCM, label: bytes, index: int, last: bool, plain: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    sealed = aead.encrypt(nonce, plain, _aad(label, index, last))
    return _LENGTH.pack(len(sealed)) + nonce + sealed


def _records(handle: BinaryIO) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield (end offset, nonce, ciphertext) of each complete record; stop at a torn tail."""
    position = handle.tell()
    while True:
        head = handle.read(_LENGTH.size + _NONCE)
        if len(head) < _LENGTH.size + _NONCE:
            return
        (length,) = _LENGTH.unpack_from(head)
        if length < _TAG or length > RECORD_BYTES + _TAG:
            return
        body = handle.read(length)
        if len(body) < length:
            return
        position += len(head) + length
        yield position, head[_LENGTH.size:], body


def _open_checked(path: Path) -> BinaryIO:
    handle = open(path, "rb")
    if handle.read(len(MAGIC)) != MAGIC:
        handle.close()
        raise SealedFileError(f"{path.name} is not a sealed broker file")
    return handle


def _pieces(data: bytes | memoryview) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), RECORD_BYTES):
        yield bytes(view[start:start + RECORD_BYTES])


class SealWriter:
    """A write-only stream that seals what is written into records (see :func:`sealing`);
    it holds back at most one record, so that the last can be flagged when it is finished."""

    def __init__(self, handle: BinaryIO, aead: AESGCM, label: bytes) -> None:
        self._handle = handle
        self._aead = aead
        self._label = label
        self._buffer = bytearray()
        self._index = 0
        self.total = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        written = len(view)
        self.total += written
        while len(view):
            if len(self._buffer) == RECORD_BYTES:  # more data follows: the held record is not the last
                self._handle.write(_encrypt(self._aead, self._label, self._index, False, bytes(self._buffer)))
                self._buffer = bytearray()
                self._index += 1
            take = RECORD_BYTES - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
        return written

    def tell(self) -> int:
        return self.total

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        """Records are written as they fill; the last one when the stream is finished."""

    def close(self) -> None:
        """A writer that wraps this stream may close it; :func:`sealing` finishes it."""
        self.closed = True

    def finish(self) -> None:
        self._handle.write(_encrypt(self._aead, self._label, self._index, True, bytes(self._buffer)))
        self._buffer = bytearray()


@contextlib.contextmanager
def sealing(path: str | Path, key: bytes, label: str) -> Iterator[SealWriter]:
    """A stream that seals what is written to it into ``path``, atomically (temporary file,
    fsync, rename) when the block ends without an error; nothing is left otherwise."""
    with atomic_file(path, 0o600) as handle:
        handle.write(MAGIC)
        writer = SealWriter(handle, AESGCM(key), label.encode())
        yield writer
        writer.finish()


def seal(path: str | Path, key: bytes, label: str, chunks: Iterable[bytes]) -> int:
    """Encrypt ``chunks`` into ``path`` atomically; returns the plaintext bytes written."""
    with sealing(path, key, label) as writer:
        for chunk in chunks:
            writer.write(chunk)
    return writer.total


def unseal_iter(path: str | Path, key: bytes, label: str) -> Iterator[bytes]:
    """Decrypt ``path`` record by record; raises SealedFileError unless it is whole."""
    aead = AESGCM(key)
    file = Path(path)
    tag = label.encode()
    with _open_checked(file) as handle:
        records = _records(handle)
        index = 0
        current = next(records, None)
        while current is not None:
            following = next(records, None)
            _, nonce, body = current
            try:
                yield aead.decrypt(nonce, body, _aad(tag, index, following is None))
            except InvalidTag:
                raise SealedFileError(
                    f"{file.name}: record {index} does not verify: the file is damaged, "
                    "truncated or was sealed with another data key"
                ) from None
            index += 1
            current = following
        if index == 0 or handle.read(1):
            raise SealedFileError(f"{file.name} is truncated or has trailing bytes")


def unseal(path: str | Path, key: bytes, label: str) -> bytes:
    return b"".join(unseal_iter(path, key, label))


def held_bytes(path: str | Path, key: bytes, label: str) -> int:
    """Plaintext bytes in the verified records of a growing file, without changing it
    (safe while another thread appends)."""
    aead = AESGCM(key)
    tag = label.encode()
    total = 0
    try:
        with _open_checked(Path(path)) as handle:
            for index, (_, nonce, body) in enumerate(_records(handle)):
                try:
                    total += len(aead.decrypt(nonce, body, _aad(tag, index, False)))
                except InvalidTag:
                    break
    except (FileNotFoundError, SealedFileError):
        return 0
    return total


class GrowingFile:
    """An append-only sealed file without an end: the store for a resumable upload.

    Opening it verifies every record and cuts off anything after the last good one (a
    crash can leave a torn record; it was never acknowledged).
    """

    def __init__(self, path: str | Path, key: bytes, label: str) -> None:
        self.path = Path(path)
        self._aead = AESGCM(key)
        self._label = label.encode()
        self.records = 0
        self.size = 0
        with open(self.path, "ab+") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.seek(0)
            if handle.read(len(MAGIC)) != MAGIC:
                handle.truncate(0)
                handle.write(MAGIC)
                return
            good_end = len(MAGIC)
            for end, nonce, body in _records(handle):
                try:
                    plain = self._aead.decrypt(nonce, body, _aad(self._label, self.records, False))
                except InvalidTag:
                    break
                self.records += 1
                self.size += len(plain)
                good_end = end
            handle.truncate(good_end)

    def append(self, data: bytes) -> None:
        with open(self.path, "ab") as handle:
            for piece in _pieces(data):
                handle.write(_encrypt(self._aead, self._label, self.records, False, piece))
                self.records += 1
                self.size += len(piece)

    def read_all(self) -> Iterator[bytes]:
        """Decrypt the records in order (they verified when the file was opened)."""
        with _open_checked(self.path) as handle:
            for index, (_, nonce, body) in enumerate(_records(handle)):
                if index >= self.records:
                    return
                try:
                    yield self._aead.decrypt(nonce, body, _aad(self._label, index, False))
                except InvalidTag:
                    raise SealedFileError(f"{self.path.name}: record {index} changed on disk") from None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class SealedReader(io.RawIOBase):
    """A seekable read-only view of a growing file's plaintext, decrypting only the records
    a read touches (a few are cached), so that a Parquet reader can validate an upload
    without the whole upload in memory. Every record is checked when it is read."""

    CACHED = 4

    def __init__(self, growing: GrowingFile) -> None:
        super().__init__()
        self._growing = growing
        self._handle = _open_checked(growing.path)
        self._spans: list[tuple[int, int, int]] = []  # plaintext start, file offset, sealed length
        starts, position, offset = [], 0, len(MAGIC)
        for end, _, body in _records(self._handle):
            if len(self._spans) == growing.records:
                break
            self._spans.append((position, offset, len(body)))
            starts.append(position)
            position += len(body) - _TAG
            offset = end
        self._starts = starts
        self.size = position
        self._position = 0
        self._cache: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def _record(self, index: int) -> bytes:
        plain = self._cache.pop(index, None)
        if plain is None:
            _, offset, length = self._spans[index]
            self._handle.seek(offset)
            head = self._handle.read(_LENGTH.size + _NONCE)
            body = self._handle.read(length)
            try:
                plain = self._growing._aead.decrypt(head[_LENGTH.size:], body,
                                                    _aad(self._growing._label, index, False))
            except InvalidTag:
                raise SealedFileError(f"{self._growing.path.name}: record {index} changed on disk") from None
            if len(self._cache) >= self.CACHED:
                self._cache.popitem(last=False)
        self._cache[index] = plain
        return plain

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self.size:
            index = bisect.bisect_right(self._starts, self._position) - 1
            plain = self._record(index)
            start = self._position - self._starts[index]
            count = min(len(view) - done, len(plain) - start)
            view[done:done + count] = memoryview(plain)[start:start + count]
            done += count
            self._position += count
        return done

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
            self._cache.clear()
        super().close()
