"""``linkage synth``: generate a synthetic Flemish population and the four source extracts."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from linkage.synth import MAX_PERSONS, SynthConfig, generate, load_config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic source extracts with ground truth",
        description=(
            "Generate a synthetic Flemish population and the extracts of the four sources "
            "(ksz, vdab, integration, education) as CSV files, with the ground truth "
            "(truth.csv, persons.csv). Same --persons and --seed give identical files."
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", type=Path,
                        help="directory to write (must be new or empty unless --force)")
    parser.add_argument("--persons", type=int, required=True, metavar="N",
                        help=f"number of persons in the population (1 to {MAX_PERSONS:,})")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--config", type=Path, metavar="FILE.json",
                        help="JSON file overriding corruption rates and coverage (see docs/synth.md)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty OUTDIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else SynthConfig()
    with _progress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        summary = generate(args.persons, args.seed, args.outdir, progress=progress,
                           config=config, force=args.force)
    if not args.quiet:
        counts = ", ".join(f"{source} {count:,}" for source, count in summary.records.items())
        print(f"wrote {summary.persons:,} persons to {summary.outdir} in {summary.seconds:.1f} s "
              f"(records: {counts})")
    return 0


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator:
    """A rich progress bar on stderr showing the generator's stages, or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description:<20}"), BarColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("synth", total=1.0)

    def update(stage: str, fraction: float) -> None:
        bar.update(task, description=stage, completed=fraction)

    with bar:
        yield update
