"""``linkage audit``: verify, checkpoint and read an offline copy of the broker's audit log.

``fetch`` asks the broker's audit service (auditors only) and writes a log folder; all
other commands need no broker: they read that folder and the log's public key (``log.pub``).

    linkage audit fetch --broker HOST:PORT --tls-dir DIR --org ORG --log LOGDIR
                        [--public-key FILE] [--checkpoint FILE [--create]]
    linkage audit verify --log LOGDIR --public-key log.pub [--checkpoint FILE [--create]]
    linkage audit checkpoint --log LOGDIR --public-key log.pub -o FILE
    linkage audit show --log LOGDIR [--requester ORG] [--authorisation ID] [--refusals]
                       [--since DATE] [--until DATE] [--type T] [--format table|csv|json]

A checkpoint is the newest signed tree head an auditor has verified; every later
verification with it proves the log only grew. ``fetch`` into a folder of an earlier fetch
asks the broker only for the entries it does not hold yet, and with ``--checkpoint`` it
advances the checkpoint once the whole folder verifies.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from linkage.auditlog import LogSource, SignedTreeHead, fetch_log, load_public_key, verify_folder
from linkage.auditlog.checkpoint import read_checkpoint, write_checkpoint
from linkage.auditlog.errors import AuditLogError
from linkage.auditlog.folder import MANIFEST, LogFolder
from linkage.auditlog.verify import VerificationReport
from clients.audit_show import FORMATS, run_show
from clients.connection import add_connection_args


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="verify and read the broker's tamper-evident audit log offline",
        description="Verify and read an offline copy of the broker's audit log. First time: "
        "'fetch --checkpoint FILE --create'; afterwards 'fetch --checkpoint FILE' fetches the new "
        "entries, verifies the folder and advances the checkpoint.",
    )
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    commands.required = True

    fetch = commands.add_parser(
        "fetch",
        help="fetch the log with its signed tree heads and proofs into a folder, then verify it",
        description="Fetch the broker's audit log (you must be an auditor in its policy) into "
        "LOGDIR and verify it. Into the folder of an earlier fetch, only newer entries are "
        "fetched; its tree heads are kept and must stay consistent. With --checkpoint, the "
        "checkpoint is advanced to the newest tree head once everything verifies.",
    )
    add_connection_args(fetch)
    fetch.add_argument("--log", type=Path, required=True, metavar="LOGDIR",
                       help="the folder to write (an earlier fetch's folder is extended)")
    fetch.add_argument("--public-key", type=Path, metavar="FILE",
                       help="the broker's log public key (default TLS_DIR/log.pub)")
    _checkpoint_options(fetch, "the log must extend it; advanced to the newest tree head "
                        "when the fetched log verifies")
    fetch.add_argument("--quiet", action="store_true", help="no progress display")
    fetch.set_defaults(func=run_fetch)

    verify = commands.add_parser(
        "verify",
        help="check signatures, the Merkle tree, proofs and consistency with a checkpoint",
        description="Verify a log folder with the broker's public key; exits 1 if anything "
        "fails, naming the entry or tree size concerned.",
    )
    _log_and_key(verify)
    _checkpoint_options(verify, "the log must extend it without rewriting it")
    verify.set_defaults(func=run_verify)

    checkpoint = commands.add_parser(
        "checkpoint",
        help="verify the log and store its newest signed tree head",
        description="Verify a log folder and store its newest signed tree head in FILE. If FILE "
        "already holds a checkpoint, the log must be consistent with it first.",
    )
    _log_and_key(checkpoint)
    checkpoint.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                            help="the checkpoint file to write or advance")
    checkpoint.set_defaults(func=run_checkpoint)

    show = commands.add_parser(
        "show",
        help="list log entries, filtered",
        description="List the entries of a log folder (run 'verify' first to trust them). A "
        "filter that matches nothing is reported on stderr with the values the log holds.",
    )
    show.add_argument("--log", type=Path, required=True, metavar="LOGDIR",
                      help="the folder written by 'linkage audit fetch'")
    show.add_argument("--requester", metavar="ORG", help="entries by this organisation (also the starter of a run)")
    show.add_argument("--authorisation", metavar="ID", help="requests under this authorisation, e.g. IVC-24-001")
    show.add_argument("--refusals", action="store_true", help="only refusals and refused requests or uploads")
    show.add_argument("--since", type=_date_or_time, metavar="DATE",
                      help="from this date or time (UTC), inclusive")
    show.add_argument("--until", type=_end_of, metavar="DATE",
                      help="up to this date (the whole day) or time (UTC), inclusive")
    show.add_argument("--type", metavar="T", help="only entries of this type (upload, run, request, refusal, policy)")
    show.add_argument("--format", choices=FORMATS, default="table",
                      help="table (default, fits 80 columns), csv or json")
    show.add_argument("--json", action="store_true", help="the same as --format json")
    show.set_defaults(func=run_show)


def _log_and_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", type=Path, required=True, metavar="LOGDIR",
                        help="the folder written by 'linkage audit fetch'")
    parser.add_argument("--public-key", type=Path, required=True, metavar="FILE",
                        help="the broker's log public key (log.pub)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def _checkpoint_options(parser: argparse.ArgumentParser, role: str) -> None:
    parser.add_argument("--checkpoint", type=Path, metavar="FILE", help=f"a checkpoint stored earlier: {role}")
    parser.add_argument("--create", action="store_true",
                        help="if FILE does not exist yet, store the newest verified tree head in it "
                        "(your first checkpoint)")


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


# -- verify and checkpoint -----------------------------------------------------------------


@contextlib.contextmanager
def _progress(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _earlier(checkpoint: Path | None, create: bool) -> SignedTreeHead | None:
    """The checkpoint to hold the log to; ``None`` when there is none yet and ``create``
    asks to store the first one. A missing file without ``create`` is explained."""
    if checkpoint is None or (create and not checkpoint.exists()):
        return None
    if not checkpoint.exists():
        raise AuditLogError(
            f"there is no checkpoint {checkpoint} yet. A checkpoint is the newest signed tree "
            "head you have verified; later verifications prove that the log only grew from it. "
            "To store your first one, run the same command again with --create (or "
            f"'linkage audit checkpoint --log LOGDIR --public-key log.pub -o {checkpoint}')"
        )
    return read_checkpoint(checkpoint)


def _verify(log: Path, key_file: Path, earlier: SignedTreeHead | None, quiet: bool) -> VerificationReport:
    key = load_public_key(key_file)
    with _progress("verifying entries", quiet) as progress:
        return verify_folder(log, key, earlier, progress)


def _print_problems(log: Path, report: VerificationReport) -> None:
    print(f"FAILED: the audit log in {log} does not verify:", file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)


def _summary(report: VerificationReport) -> str:
    head = report.newest_head
    return (
        f"{report.entries} entries, {report.tree_heads} signed tree heads, "
        f"{report.inclusion_proofs} inclusion and {report.consistency_proofs} consistency "
        f"proofs; newest: {head.describe()}, root {head.root_hash.hex()}"
    )


def _store(checkpoint: Path, earlier: SignedTreeHead | None, report: VerificationReport) -> None:
    newest = report.newest_head
    write_checkpoint(checkpoint, newest)
    if earlier is None:
        print(f"Stored the newest tree head in {checkpoint} as your first checkpoint; compare its "
              "root with one the broker's operator publishes, then verify later fetches with it.")
    elif earlier.tree_size == newest.tree_size:
        print(f"Checkpoint {checkpoint} is current ({newest.tree_size} entries).")
    else:
        print(f"Advanced checkpoint {checkpoint} from {earlier.tree_size} to "
              f"{newest.tree_size} entries.")


def run_verify(args: argparse.Namespace) -> int:
    earlier = _earlier(args.checkpoint, args.create)
    report = _verify(args.log, args.public_key, earlier, args.quiet)
    if not report.ok:
        _print_problems(args.log, report)
        return 1
    print(f"OK: {_summary(report)}")
    if earlier is not None:
        print(f"The log extends your checkpoint {args.checkpoint} without rewriting it.")
    elif args.checkpoint:
        _store(args.checkpoint, None, report)
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    earlier = _earlier(args.output, create=True)
    report = _verify(args.log, args.public_key, earlier, args.quiet)
    if not report.ok:
        _print_problems(args.log, report)
        print(f"{args.output} was left unchanged.", file=sys.stderr)
        return 1
    print(f"OK: {_summary(report)}")
    _store(args.output, earlier, report)
    return 0


class HeldPrefix:
    """A ``LogSource`` that takes the entries an earlier fetch left in the folder from there
    and asks ``remote`` only for newer ones.

    Nothing is trusted for having been fetched before: verification recomputes every root
    from all entries, so a held entry that differs from the broker's fails it.
    """

    def __init__(self, remote: LogSource, folder: Path) -> None:
        self.remote = remote
        self.held = 0
        self.fetched = 0
        self._lines: Iterator[bytes] = iter(())
        self._next = 0
        if (folder / MANIFEST).is_file():
            earlier = LogFolder(folder)
            self.held = int(earlier.manifest.get("tree_size") or 0)
            self._lines = earlier.entries()

    def signed_tree_head(self) -> SignedTreeHead:
        return self.remote.signed_tree_head()

    def entries(self, start: int, end: int) -> list[bytes]:
        local: list[bytes] = []
        if start == self._next and start < self.held:
            local = list(itertools.islice(self._lines, min(end, self.held) - start))
            self._next = start + len(local)
        rest = start + len(local)
        remote = self.remote.entries(rest, end) if rest < end else []
        self.fetched += len(remote)
        return local + remote

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        return self.remote.inclusion_proof(index, tree_size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return self.remote.consistency_proof(first, second)


def fetch_and_verify(
    source: LogSource, log: Path, public_key: Path, checkpoint: Path | None = None,
    quiet: bool = False, create: bool = False,
) -> int:
    """Fetch a log into ``log``, verify it and advance ``checkpoint``: the body of
    ``linkage audit fetch``.

    The gRPC audit client (``source``) comes from the broker commands; this keeps what is
    written and how it is checked in one place.
    """
    key = load_public_key(public_key)
    earlier = _earlier(checkpoint, create)
    incremental = HeldPrefix(source, log)
    with _progress("fetching entries", quiet) as progress:
        head = fetch_log(incremental, log, earlier, progress=progress)
    reused = head.tree_size - incremental.fetched
    print(f"Fetched {incremental.fetched} new entries into {log}"
          + (f" ({reused} held from the earlier fetch)" if reused else "")
          + f"; the log holds {head.tree_size}.")
    with _progress("verifying entries", quiet) as progress:
        report = verify_folder(log, key, earlier, progress)
    if not report.ok:
        _print_problems(log, report)
        if reused:
            print(f"{reused} entries came from the earlier fetch: fetch into a new folder to rule "
                  "them out.", file=sys.stderr)
        if checkpoint:
            print(f"{checkpoint} was left unchanged.", file=sys.stderr)
        return 1
    print(f"OK: {_summary(report)}")
    if checkpoint:
        _store(checkpoint, earlier, report)
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from clients.broker_cmds import AuditClient, connect  # gRPC only for this command

    public_key = args.public_key or Path(args.tls_dir) / "log.pub"
    with connect(args.broker, args.tls_dir, args.org) as channel:
        return fetch_and_verify(AuditClient(channel), args.log, public_key, args.checkpoint,
                                args.quiet, args.create)
