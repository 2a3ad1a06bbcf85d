"""Entry point of the ``linkage`` command: one subcommand module per job.

Each module in ``COMMANDS`` has ``register(subparsers)``, which adds its subcommand(s) and
sets ``func`` to a callable taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from linkage.errors import LinkageError

COMMANDS: dict[str, str] = {
    "encode": "clients.encode_cmd",
    "match": "clients.match_cmd",
    "synth": "clients.synth_cmd",
    "origin": "clients.origin_cmd",
    "protect": "clients.protect_cmd",
    "audit": "clients.audit_cmd",
    "pki": "clients.pki_cmd",
    "serve": "clients.broker_cmds",
    "upload": "clients.broker_cmds",
    "run": "clients.broker_cmds",
    "runs": "clients.broker_cmds",
    "whoami": "clients.broker_cmds",
    "receipt": "clients.broker_cmds",
    "aggregate": "clients.aggregate_cmd",
}
"""Subcommand -> the module that registers it."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with a known ``command``, only that command's module is imported
    (the modules pull in gRPC, DuckDB, matplotlib ...: a provider's `linkage encode`
    should not wait for the broker's dependencies to load)."""
    parser = argparse.ArgumentParser(
        prog="linkage",
        description="Privacy-preserving record linkage for origin statistics.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    try:
        return int(args.func(args) or 0)
    except LinkageError as exc:
        print(f"linkage {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`linkage ... | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"linkage {args.command}: interrupted; nothing partial was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("LINKAGE_DEBUG"):
            raise
        print(
            f"linkage {args.command}: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug; run again with LINKAGE_DEBUG=1 for details and report it.",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
