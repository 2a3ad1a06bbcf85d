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

COMMANDS = (
    "clients.encode_cmd",
    "clients.match_cmd",
    "clients.synth_cmd",
    "clients.origin_cmd",
    "clients.protect_cmd",
    "clients.audit_cmd",
    "clients.pki_cmd",
    "clients.broker_cmds",
    "clients.aggregate_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linkage",
        description="Privacy-preserving record linkage for origin statistics.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
