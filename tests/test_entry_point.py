"""The `linkage` entry point: every command is reachable, and errors never show a traceback."""

import argparse

import pytest

from clients import cli


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def test_the_command_map_names_exactly_the_registered_commands():
    assert subcommands(cli.build_parser()) == set(cli.COMMANDS)


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_each_command_is_registered_by_its_own_module(command):
    assert command in subcommands(cli.build_parser(command))


def test_a_user_error_is_one_line_and_exit_2(tmp_path, capsys):
    code = cli.main(["match", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "g.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("linkage match: error:") and "Traceback" not in err


def test_an_unexpected_exception_is_reported_without_a_traceback(monkeypatch, capsys):
    def explode(args):
        raise ZeroDivisionError("boom")

    parser = cli.build_parser("synth")
    monkeypatch.setattr(cli, "build_parser", lambda command=None: parser)
    parser._subparsers._group_actions[0].choices["synth"].set_defaults(func=explode)
    code = cli.main(["synth", "--persons", "1", "--seed", "1", "out"])
    err = capsys.readouterr().err
    assert code == 70 and "internal error: ZeroDivisionError: boom" in err and "Traceback" not in err
