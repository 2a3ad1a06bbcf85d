"""``linkage encode``: a provider encodes its CSV into an extract for upload."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from linkage.encoding import encode_csv, load_schema, read_secret
from linkage.encoding.advice import schema_advice
from linkage.encoding.pool import MAX_DEFAULT_WORKERS, default_workers
from linkage.errors import LinkageError
from linkage.extract import write_extract
from linkage.sources import IDENTIFIERS_ONLY, SOURCES

if TYPE_CHECKING:  # rich is imported only when a bar is shown
    from rich.progress import Progress, TaskID

EXAMPLE = """example:
  linkage encode --schema belgian-v4 --secret-file linkage.secret --source vdab \\
      --id-column record_id --exact-column insz vdab.csv -o vdab.extract.parquet
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "encode",
        help="encode identifiers (CLKs, keyed national-number tokens) for upload",
        description="Normalise and encode a provider's CSV into an extract: clkhash CLKs from "
        "the schema's features, a keyed token for a valid national number, and exactly the "
        "payload declared for the source. No plaintext identifier is written.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT.csv", help="UTF-8 CSV with a header row")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="extract file to write (Parquet)")
    parser.add_argument("--schema", required=True, metavar="SCHEMA.json",
                        help="clkhash v3 linkage schema, or a bundled one by name (belgian-v4, the recommended one; belgian-v3, belgian-v2 and belgian-v1 for extracts made before)")
    parser.add_argument("--secret-file", required=True, metavar="FILE",
                        help="file holding the linkage secret shared by the providers")
    parser.add_argument("--source", metavar="NAME",
                        help=f"which source this is ({', '.join(SOURCES)}; 'linkage sources' lists the "
                        "payload columns each needs). Without it the extract holds identifiers only: "
                        "'linkage match' links it, the broker refuses it")
    parser.add_argument("--id-column", metavar="COL",
                        help="column with the provider's opaque record reference (default: row number)")
    parser.add_argument("--exact-column", metavar="COL",
                        help="column with the national number (INSZ/NISS or BIS) for the exact token")
    parser.add_argument("--replaced-column", metavar="COL",
                        help="column with the number the record's own national number replaced (the BIS "
                        "number a register number superseded), where the register knows it: records of "
                        "other sources that still carry the old number then link exactly")
    parser.add_argument("--max-rejected", type=int, default=0, metavar="N",
                        help="leave out up to N invalid rows (listed in the summary) instead of failing")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes for inputs of 20,000 rows or more (default: the cores "
                        f"this process may use, at most {MAX_DEFAULT_WORKERS}; 1 encodes in this process)")
    parser.add_argument("--delimiter", default=None, metavar="C",
                        help="CSV delimiter (default: guessed from the header among , ; tab |)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _warn(message: str) -> None:
    print(f"linkage encode: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise LinkageError("-o names the input file; choose another output path")
    schema = load_schema(args.schema)
    for advice in schema_advice(schema):
        _warn(f"schema: {advice}")
    secret = read_secret(args.secret_file, warn=_warn)
    with _progress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        extract, summary = encode_csv(
            args.input, schema, secret,
            source=args.source or IDENTIFIERS_ONLY.name, id_column=args.id_column, exact_column=args.exact_column,
            replaced_column=args.replaced_column, max_rejected=args.max_rejected, workers=args.workers or default_workers(), delimiter=args.delimiter,
            progress=progress,
        )
    write_extract(args.output, extract)
    print(summary.render(), file=sys.stderr)
    print(f"wrote {args.output} ({extract.header.record_count} records, fingerprint "
          f"{extract.header.fingerprint[:19]}…)", file=sys.stderr)
    return 0


class _progress:
    """A rich progress bar on stderr, or nothing. The bar (and its refresh thread) starts at
    the first update, after the encoding worker processes have been forked."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tuple[Progress, TaskID] | None = None

    def __enter__(self):
        return self._update if self.enabled else None

    def _update(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            bar = Progress("encoding", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=True)
            bar.start()
            self._bar = (bar, bar.add_task("encoding", total=total))
        bar, task = self._bar
        bar.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar[0].stop()
