"""Every `linkage` command shown in README.md and docs/*.md is one the command line accepts,
and those that need no input file or broker run and succeed as written.

A user copies these blocks; an option renamed in the code and not in the docs must fail here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from clients.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```")
PROMPT = re.compile(r"^(\$\s+)?(/usr/bin/time\s+(-v\s+)?)?(?=linkage\s)")

# Commands that read nothing and talk to no broker: they must run as the docs show them.
OFFLINE = {("sources",), ("registry",), ("origin", "definitions")}


@dataclass(frozen=True)
class DocCommand:
    where: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: linkage {' '.join(self.argv)}"


def _logical_lines(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join backslash continuations, keep the number of the first line."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in block:
        if pending is not None:
            number, line = pending[0], pending[1] + " " + line.strip()
        if line.rstrip().endswith("\\"):
            pending = (number, line.rstrip()[:-1])
            continue
        pending = None
        joined.append((number, line))
    return joined


def _commands(document: Path) -> list[DocCommand]:
    commands, block, inside = [], [], False
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            if inside:
                for first, text in _logical_lines(block):
                    command = _command(text)
                    if command:
                        commands.append(DocCommand(f"{document.relative_to(ROOT)}:{first}", command))
            block, inside = [], not inside
        elif inside:
            block.append((number, line))
    return commands


def _command(text: str) -> tuple[str, ...] | None:
    match = PROMPT.match(text.strip())
    if not match:
        return None
    words = shlex.split(text.strip()[match.end():], comments=True)
    words = [w for w in words if w != "&"]
    if len(words) < 2 or any(w.endswith(":") for w in words[1:3]) or "..." in words:
        return None  # printed output (`linkage audit show: warning: ...`) or an elided example
    if ">" in words:
        words = words[: words.index(">")]
    return tuple(words[1:])


ALL = [command for document in DOCUMENTS for command in _commands(document)]


def test_the_docs_show_commands_of_every_role():
    shown = {command.argv[0] for command in ALL}
    assert {"encode", "upload", "serve", "run", "aggregate", "audit", "pki", "match"} <= shown


@pytest.mark.parametrize("command", ALL, ids=str)
def test_a_documented_command_parses(command: DocCommand, capsys):
    parser = build_parser(command.argv[0])
    try:
        parser.parse_args(list(command.argv))
    except SystemExit:
        pytest.fail(f"{command} is refused by the command line: {capsys.readouterr().err.strip()}")


@pytest.mark.parametrize(
    "command", [c for c in ALL if c.argv[:1] in OFFLINE or c.argv[:2] in OFFLINE], ids=str)
def test_a_documented_offline_command_runs(command: DocCommand, capsys):
    status = main(list(command.argv))
    captured = capsys.readouterr()
    assert status == 0, f"{command} exited {status}: {captured.err.strip()}"
    assert captured.out.strip(), f"{command} printed nothing"
