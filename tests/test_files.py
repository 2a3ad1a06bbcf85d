"""Crash-safe writing: complete under its name, or nothing at all."""

import stat

import pytest

from linkage.files import atomic_text_file, write_atomic


def test_write_atomic_creates_the_file_with_its_mode(tmp_path):
    target = tmp_path / "key.pem"
    write_atomic(target, [b"part one, ", b"part two"], mode=0o600)
    assert target.read_bytes() == b"part one, part two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]


def test_a_failure_while_writing_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_text_file(target, newline="") as handle:
            handle.write("new, half written")
            raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_text_is_utf8_and_keeps_newlines_as_given(tmp_path):
    target = tmp_path / "names.csv"
    with atomic_text_file(target, newline="") as handle:
        handle.write("Yılmaz\r\nŁukasz\n")
    assert target.read_bytes() == "Yılmaz\r\nŁukasz\n".encode()
