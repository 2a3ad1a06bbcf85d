"""Entry point of the ``linkage`` command: one subcommand module per job.

Each module in ``COMMANDS`` has ``register(subparsers)``, which adds its subcommand(s) and
sets ``func`` to a callable taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from clients.connection import fill_connection
from linkage.errors import LinkageError

COMMANDS: dict[str, tuple[str, str]] = {
    "encode": ("clients.encode_cmd", "encode identifiers (CLKs, keyed national-number tokens) for upload"),
    "match": ("clients.match_cmd", "link encoded files (extracts or clkhash JSON) and write GROUPS.csv"),
    "sources": ("clients.sources_cmd", "list the sources and the CSV columns each expects"),
    "synth": ("clients.synth_cmd", "generate a synthetic population and its four source extracts"),
    "origin": ("clients.origin_cmd", "classify nationality histories by origin; list origin definitions"),
    "registry": ("clients.registry_cmd", "list measures, dimensions and groupings a request can use"),
    "protect": ("clients.protect_cmd", "apply small-cell and secondary suppression to a CSV table"),
    "audit": ("clients.audit_cmd", "verify and read the broker's tamper-evident audit log offline"),
    "pki": ("clients.pki_cmd", "development certificates and broker keys"),
    "serve": ("clients.broker_cmds", "run the broker (mutual TLS only)"),
    "upload": ("clients.broker_cmds", "upload an encoded extract to the broker"),
    "run": ("clients.broker_cmds", "start a linkage run on the broker and follow it"),
    "runs": ("clients.broker_cmds", "show linkage runs and their quality figures"),
    "whoami": ("clients.broker_cmds", "what the broker knows about your certificate and authorisations"),
    "receipt": ("clients.broker_cmds", "verify upload receipts"),
    "aggregate": ("clients.aggregate_cmd", "ask the broker for a disclosure-controlled aggregate table"),
}
"""Subcommand -> (the module that registers it, one line of help for ``linkage --help``)."""

DESCRIPTION = "Privacy-preserving record linkage for origin statistics."
EPILOG = ("Run 'linkage COMMAND --help' for a command's options. Broker commands read --broker, "
          "--tls-dir and --org also from LINKAGE_BROKER, LINKAGE_TLS_DIR, LINKAGE_ORG or a profile file "
          "(see README, 'Configuration').")


def version() -> str:
    """The installed version of the project."""
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("origin-linkage-broker")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _root_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(prog="linkage", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"linkage {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    return parser, subparsers


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with a known ``command`` only that command's module is imported (the modules
    pull in gRPC, DuckDB, matplotlib ...: a provider's `linkage encode` should not wait for the
    broker's dependencies). Without one, the overview is built from ``COMMANDS`` alone, so
    ``linkage --help`` imports nothing heavy."""
    parser, subparsers = _root_parser()
    if command in COMMANDS:
        importlib.import_module(COMMANDS[command][0]).register(subparsers)
        _describe(parser)
    else:
        for name, (_, summary) in COMMANDS.items():
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command without a description its one-line help, so that
    ``linkage COMMAND --help`` always says what the command does."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                summary = summaries.get(name)
                if not child.description and summary:
                    child.description = summary[0].upper() + summary[1:] + "."
                _describe(child)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    try:
        fill_connection(args)
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
