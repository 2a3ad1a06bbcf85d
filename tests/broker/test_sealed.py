"""Sealed files: AES-256-GCM records that cannot be altered, reordered or truncated."""

from __future__ import annotations

import os

import pytest

from server import sealed

KEY = bytes(range(32))


def test_round_trip_of_many_records(tmp_path, monkeypatch):
    monkeypatch.setattr(sealed, "RECORD_BYTES", 1000)
    data = os.urandom(4500)
    path = tmp_path / "x.sealed"
    assert sealed.seal(path, KEY, "extract:x", [data[:10], data[10:]]) == len(data)
    assert sealed.unseal(path, KEY, "extract:x") == data
    assert data[100:200] not in path.read_bytes()


def test_empty_content_round_trips(tmp_path):
    path = tmp_path / "e.sealed"
    sealed.seal(path, KEY, "l", [])
    assert sealed.unseal(path, KEY, "l") == b""


@pytest.mark.parametrize("damage", ["flip", "truncate_record", "drop_last_record", "wrong_label", "wrong_key"])
def test_any_damage_is_detected(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(sealed, "RECORD_BYTES", 100)
    path = tmp_path / "x.sealed"
    sealed.seal(path, KEY, "label", [os.urandom(350)])
    raw = bytearray(path.read_bytes())
    record = 4 + 12 + 100 + 16
    key, label = KEY, "label"
    if damage == "flip":
        raw[len(sealed.MAGIC) + 40] ^= 1
    elif damage == "truncate_record":
        raw = raw[:-5]
    elif damage == "drop_last_record":
        raw = raw[: len(sealed.MAGIC) + 3 * record]
    elif damage == "wrong_label":
        label = "other"
    else:
        key = bytes(32)
    path.write_bytes(bytes(raw))
    with pytest.raises(sealed.SealedFileError):
        sealed.unseal(path, key, label)


def test_growing_file_resumes_and_cuts_a_torn_tail(tmp_path):
    path = tmp_path / "u.part"
    growing = sealed.GrowingFile(path, KEY, "upload:a")
    growing.append(b"a" * 1000)
    growing.append(b"b" * 500)
    with open(path, "ab") as handle:  # a crash in the middle of writing a record
        handle.write(b"\x00\x00\x10\x00" + os.urandom(30))
    reopened = sealed.GrowingFile(path, KEY, "upload:a")
    assert reopened.size == 1500
    assert b"".join(reopened.read_all()) == b"a" * 1000 + b"b" * 500
    reopened.append(b"c")
    assert b"".join(sealed.GrowingFile(path, KEY, "upload:a").read_all()).endswith(b"bc")


def test_growing_file_under_another_label_starts_empty(tmp_path):
    path = tmp_path / "u.part"
    sealed.GrowingFile(path, KEY, "upload:a").append(b"secret")
    assert sealed.GrowingFile(path, KEY, "upload:b").size == 0


@pytest.mark.parametrize("size", [0, 1000, 3000, 4321])
def test_a_stream_seals_exactly_as_whole_content_does(tmp_path, monkeypatch, size):
    monkeypatch.setattr(sealed, "RECORD_BYTES", 1000)
    data = os.urandom(size)
    with sealed.sealing(tmp_path / "s.sealed", KEY, "l") as writer:
        for start in range(0, size, 333):
            writer.write(data[start:start + 333])
    sealed.seal(tmp_path / "w.sealed", KEY, "l", [data])
    assert sealed.unseal(tmp_path / "s.sealed", KEY, "l") == data
    assert (tmp_path / "s.sealed").stat().st_size == (tmp_path / "w.sealed").stat().st_size


def test_a_failed_stream_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), sealed.sealing(tmp_path / "s.sealed", KEY, "l") as writer:
        writer.write(b"half")
        raise RuntimeError("validation failed")
    assert list(tmp_path.iterdir()) == []


def test_a_growing_file_reads_at_any_offset_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(sealed, "RECORD_BYTES", 100)
    monkeypatch.setattr(sealed.SealedReader, "CACHED", 2)
    data = os.urandom(1050)
    growing = sealed.GrowingFile(tmp_path / "u.part", KEY, "extract:a")
    growing.append(data[:500])
    growing.append(data[500:])
    with sealed.SealedReader(growing) as reader:
        assert reader.size == 1050
        for start, count in [(1000, 50), (0, 10), (95, 210), (1049, 5), (640, 0), (1100, 3)]:
            reader.seek(start)
            assert reader.read(count) == data[start:start + count]
        reader.seek(-20, os.SEEK_END)
        assert reader.read() == data[-20:]
        assert len(reader._cache) <= 2


def test_a_growing_file_changed_under_its_reader_is_detected(tmp_path, monkeypatch):
    monkeypatch.setattr(sealed, "RECORD_BYTES", 100)
    growing = sealed.GrowingFile(tmp_path / "u.part", KEY, "extract:a")
    growing.append(os.urandom(300))
    raw = bytearray((tmp_path / "u.part").read_bytes())
    raw[len(sealed.MAGIC) + 132 + 40] ^= 1  # in the second record
    (tmp_path / "u.part").write_bytes(bytes(raw))
    with sealed.SealedReader(growing) as reader:
        assert len(reader.read(100)) == 100
        with pytest.raises(sealed.SealedFileError):
            reader.read(100)
