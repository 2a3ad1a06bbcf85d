"""``linkage audit``: verify, checkpoint and read an offline copy of the broker's audit log.

``fetch`` asks the broker's audit service (auditors only) and writes a log folder; all
other commands need no broker: they read that folder and the log's public key (``log.pub``).

    linkage audit fetch --broker HOST:PORT --tls-dir DIR --org ORG --log LOGDIR
                        [--public-key FILE] [--checkpoint FILE]
    linkage audit verify --log LOGDIR --public-key log.pub [--checkpoint FILE]
    linkage audit checkpoint --log LOGDIR --public-key log.pub -o FILE
    linkage audit show --log LOGDIR [--requester ORG] [--authorisation ID] [--refusals]
                       [--since DATE] [--until DATE] [--type T] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from linkage.auditlog import LogSource, decode_entry, fetch_log, load_public_key, verify_folder
from linkage.auditlog.checkpoint import read_checkpoint, write_checkpoint
from linkage.auditlog.errors import InvalidEntryError, LogFolderError
from linkage.auditlog.folder import ENTRIES, LogFolder
from linkage.auditlog.verify import VerificationReport


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="verify and read the broker's tamper-evident audit log offline",
        description="Verify and read an offline copy of the broker's audit log.",
    )
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    commands.required = True

    fetch = commands.add_parser(
        "fetch",
        help="fetch the log with its signed tree heads and proofs into a folder, then verify it",
        description="Fetch the broker's audit log (you must be an auditor in its policy) into "
        "LOGDIR and verify it. Tree heads from an earlier fetch into LOGDIR are kept and must "
        "stay consistent.",
    )
    fetch.add_argument("--broker", required=True, metavar="HOST:PORT", help="the broker's address")
    fetch.add_argument("--tls-dir", required=True, type=Path, metavar="DIR",
                       help="holds ca.crt, ORG.crt and ORG.key (and log.pub)")
    fetch.add_argument("--org", required=True, metavar="NAME", help="your organisation")
    fetch.add_argument("--log", type=Path, required=True, metavar="LOGDIR")
    fetch.add_argument("--public-key", type=Path, metavar="FILE",
                       help="the broker's log public key (default TLS_DIR/log.pub)")
    fetch.add_argument("--checkpoint", type=Path, help="a checkpoint stored earlier")
    fetch.add_argument("--quiet", action="store_true", help="no progress display")
    fetch.set_defaults(func=run_fetch)

    verify = commands.add_parser(
        "verify",
        help="check signatures, the Merkle tree, proofs and consistency with a checkpoint",
        description="Verify a log folder with the broker's public key; exits 1 if anything "
        "fails, naming the entry or tree size concerned.",
    )
    _log_and_key(verify)
    verify.add_argument("--checkpoint", type=Path, help="a checkpoint stored earlier; the log "
                        "must extend it without rewriting it")
    verify.set_defaults(func=run_verify)

    checkpoint = commands.add_parser(
        "checkpoint",
        help="verify the log and store its newest signed tree head",
        description="Verify a log folder and store its newest signed tree head in FILE. If FILE "
        "already holds a checkpoint, the log must be consistent with it first.",
    )
    _log_and_key(checkpoint)
    checkpoint.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    checkpoint.set_defaults(func=run_checkpoint)

    show = commands.add_parser(
        "show",
        help="list log entries, filtered",
        description="List the entries of a log folder (run 'verify' first to trust them).",
    )
    show.add_argument("--log", type=Path, required=True, metavar="LOGDIR")
    show.add_argument("--requester", metavar="ORG", help="entries by this organisation")
    show.add_argument("--authorisation", metavar="ID", help="requests under this authorisation")
    show.add_argument("--refusals", action="store_true", help="only refusals and refused requests or uploads")
    show.add_argument("--since", type=_date_or_time, metavar="DATE",
                      help="from this date or time (UTC), inclusive")
    show.add_argument("--until", type=_end_of, metavar="DATE",
                      help="up to this date (the whole day) or time (UTC), inclusive")
    show.add_argument("--type", metavar="T", help="only entries of this type (upload, run, request, refusal, policy)")
    show.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    show.set_defaults(func=run_show)


def _log_and_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", type=Path, required=True, metavar="LOGDIR",
                        help="the folder written by 'linkage audit fetch'")
    parser.add_argument("--public-key", type=Path, required=True, metavar="FILE",
                        help="the broker's log public key (log.pub)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


# -- verify and checkpoint -----------------------------------------------------------------


@contextlib.contextmanager
def _progress(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _verify(log: Path, public_key: Path, checkpoint: Path | None, quiet: bool) -> VerificationReport:
    key = load_public_key(public_key)
    earlier = read_checkpoint(checkpoint) if checkpoint else None
    with _progress("verifying entries", quiet) as progress:
        return verify_folder(log, key, earlier, progress)


def _print_problems(log: Path, report: VerificationReport) -> None:
    print(f"FAILED: the audit log in {log} does not verify:", file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)


def _summary(report: VerificationReport) -> str:
    head = report.newest
    return (
        f"{report.entries} entries, {report.tree_heads} signed tree heads, "
        f"{report.inclusion_proofs} inclusion and {report.consistency_proofs} consistency "
        f"proofs; newest: {head.describe()}, root {head.root_hash.hex()}"
    )


def run_verify(args: argparse.Namespace) -> int:
    report = _verify(args.log, args.public_key, args.checkpoint, args.quiet)
    if not report.ok:
        _print_problems(args.log, report)
        return 1
    print(f"OK: {_summary(report)}")
    if args.checkpoint:
        print(f"The log extends your checkpoint {args.checkpoint} without rewriting it.")
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    earlier = args.output if args.output.exists() else None
    report = _verify(args.log, args.public_key, earlier, args.quiet)
    if not report.ok:
        _print_problems(args.log, report)
        print(f"{args.output} was left unchanged.", file=sys.stderr)
        return 1
    write_checkpoint(args.output, report.newest)
    print(f"OK: {_summary(report)}")
    print(f"Stored the newest tree head in {args.output}; verify later fetches with --checkpoint.")
    return 0


def fetch_and_verify(
    source: LogSource, log: Path, public_key: Path, checkpoint: Path | None = None,
    quiet: bool = False,
) -> int:
    """Fetch a log into ``log`` and verify it: the body of ``linkage audit fetch``.

    The gRPC audit client (``source``) comes from the broker commands; this keeps what is
    written and how it is checked in one place.
    """
    key = load_public_key(public_key)
    earlier = read_checkpoint(checkpoint) if checkpoint else None
    with _progress("fetching entries", quiet) as progress:
        head = fetch_log(source, log, earlier, progress=progress)
    print(f"Fetched {head.tree_size} entries into {log}.")
    with _progress("verifying entries", quiet) as progress:
        report = verify_folder(log, key, earlier, progress)
    if not report.ok:
        _print_problems(log, report)
        return 1
    print(f"OK: {_summary(report)}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from clients.broker_cmds import AuditClient, connect  # gRPC only for this command

    public_key = args.public_key or args.tls_dir / "log.pub"
    with connect(args.broker, args.tls_dir, args.org) as channel:
        return fetch_and_verify(AuditClient(channel), args.log, public_key, args.checkpoint,
                                args.quiet)


# -- show ----------------------------------------------------------------------------------


def _date_or_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _end_of(text: str) -> dt.datetime:
    """The exclusive upper bound for ``--until``: a date includes its whole day."""
    step = dt.timedelta(days=1) if len(text.strip()) == 10 else dt.timedelta(microseconds=1)
    return _date_or_time(text) + step


def _entry_time(entry: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(entry.get("ts", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _who(entry: dict[str, Any]) -> str:
    return str(entry.get("requester") or entry.get("organisation") or "")


def _is_refusal(entry: dict[str, Any]) -> bool:
    return (
        entry.get("type") == "refusal"
        or entry.get("decision") == "refused"
        or entry.get("accepted") is False
    )


def _matches(entry: dict[str, Any], args: argparse.Namespace) -> bool:
    when = _entry_time(entry)
    return (
        (args.type is None or entry.get("type") == args.type)
        and (args.requester is None or _who(entry) == args.requester)
        and (args.authorisation is None or entry.get("authorisation") == args.authorisation)
        and (not args.refusals or _is_refusal(entry))
        and (args.since is None or (when is not None and when >= args.since))
        and (args.until is None or (when is not None and when < args.until))
    )


def _selected(args: argparse.Namespace) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, raw in enumerate(LogFolder(args.log).entries()):
        try:
            entry = decode_entry(raw)
        except InvalidEntryError as exc:
            raise LogFolderError(f"{ENTRIES} line {index + 1}: {exc}; run 'linkage audit verify'") from None
        if _matches(entry, args):
            yield index, entry


def _decision(entry: dict[str, Any]) -> str:
    if "decision" in entry:
        return str(entry["decision"])
    if "accepted" in entry:
        return "accepted" if entry["accepted"] else "refused"
    return "refused" if entry.get("type") == "refusal" else ""


def _details(entry: dict[str, Any]) -> str:
    kind = entry.get("type")
    if kind == "upload":
        return f"{entry.get('source')}: {entry.get('record_count')} records; {entry.get('reason', '')}"
    if kind == "request":
        suppressed = sum(v for v in (entry.get("suppressed") or {}).values() if isinstance(v, int))
        table = str(entry.get("table_hash") or "")[:12]
        return (f"{entry.get('reason', '')}; request {str(entry.get('request_hash'))[:12]}"
                + (f", table {table}, {suppressed} cells suppressed" if table else ""))
    if kind == "run":
        return f"run {entry.get('run_id')}"
    if kind == "refusal":
        return f"{entry.get('service')}: {entry.get('reason', '')}"
    if kind == "policy":
        return f"policy {str(entry.get('policy_hash'))[:12]}; {entry.get('reason', '')}"
    return ""


def run_show(args: argparse.Namespace) -> int:
    selected = list(_selected(args))
    if args.json:
        json.dump([{"index": i, "entry": e} for i, e in selected], sys.stdout,
                  ensure_ascii=False, indent=2)
        print()
        return 0
    table = Table(title=f"Audit log {args.log}: {len(selected)} entries", show_lines=False)
    for column in ("#", "time (UTC)", "type", "who", "authorisation", "decision", "details"):
        table.add_column(column, overflow="fold")
    for index, entry in selected:
        table.add_row(
            str(index), str(entry.get("ts", ""))[:19].replace("T", " "), str(entry.get("type")),
            _who(entry), str(entry.get("authorisation", "")), _decision(entry), _details(entry),
        )
    Console().print(table)
    print("Listed as stored; run 'linkage audit verify' to prove the entries are authentic.",
          file=sys.stderr)
    return 0
