"""``linkage audit show``: select entries of an offline log folder and print them.

Three formats: a table that stays readable at 80 columns, CSV (one row per entry, the same
columns as the table plus the full time stamp) and JSON. A filter that matches nothing is
reported on stderr with the values the log does hold, so a mistyped id does not pass for
"nothing happened".
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from linkage.auditlog import decode_entry
from linkage.auditlog.errors import InvalidEntryError, LogFolderError
from linkage.auditlog.folder import ENTRIES, LogFolder

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ("index", "time", "type", "who", "authorisation", "decision", "details",
               "request_hash", "table_hash", "suppressed_cells", "policy_hash")


@dataclass(frozen=True)
class Row:
    """One entry as shown: the columns of the table and of the CSV."""

    index: int
    entry: dict[str, Any]
    who: str

    @property
    def time(self) -> str:
        return str(self.entry.get("ts", ""))

    @property
    def type(self) -> str:
        return str(self.entry.get("type", ""))

    @property
    def authorisation(self) -> str:
        return str(self.entry.get("authorisation") or "")

    @property
    def decision(self) -> str:
        entry = self.entry
        if "decision" in entry:
            return str(entry["decision"])
        if "accepted" in entry:
            return "accepted" if entry["accepted"] else "refused"
        if entry.get("type") == "refusal":
            return "refused"
        return str(entry.get("state") or "")

    @property
    def refused(self) -> bool:
        return self.decision == "refused"

    @property
    def details(self) -> str:
        return _details(self.entry)

    def csv_row(self) -> list[Any]:
        entry = self.entry
        return [self.index, self.time, self.type, self.who, self.authorisation, self.decision,
                self.details, entry.get("request_hash") or "", entry.get("table_hash") or "",
                _suppressed_cells(entry) if entry.get("table_hash") else "", entry.get("policy_hash") or ""]


def _suppressed_cells(entry: dict[str, Any]) -> int:
    return sum(v for v in (entry.get("suppressed") or {}).values() if isinstance(v, int))


def _details(entry: dict[str, Any]) -> str:
    """What happened, in words; hashes are left to the CSV and JSON output."""
    kind = entry.get("type")
    reason = str(entry.get("reason") or "")
    if kind == "upload":
        return f"{entry.get('source')}, {entry.get('record_count')} records: {reason}"
    if kind == "request" and entry.get("table_hash"):
        return f"{reason}; {_suppressed_cells(entry)} cells suppressed"
    if kind == "run":
        text = f"run {entry.get('run_id')}"
        if entry.get("seconds") is not None:
            text += f" ({entry['seconds']} s)"
        return f"{text}: {entry['error']}" if entry.get("error") else text
    if kind == "refusal":
        return f"{entry.get('service')}: {reason}"
    if kind in ("policy", "request"):
        return reason
    shown = {k: v for k, v in entry.items() if k not in ("type", "ts", "policy_hash")}
    return json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def read_entries(log: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every entry of the folder, decoded; a line that is not an entry names its line."""
    for index, raw in enumerate(LogFolder(log).entries()):
        try:
            yield index, decode_entry(raw)
        except InvalidEntryError as exc:
            raise LogFolderError(f"{ENTRIES} line {index + 1}: {exc}; run 'linkage audit verify'") from None


def rows(entries: Iterable[tuple[int, dict[str, Any]]]) -> list[Row]:
    """Rows with "who" filled in: for a run, the organisation that started it (the entries
    of its later states carry only the run id)."""
    started_by: dict[str, str] = {}
    result = []
    for index, entry in entries:
        who = str(entry.get("requester") or entry.get("organisation") or entry.get("started_by") or "")
        if entry.get("type") == "run":
            run_id = str(entry.get("run_id"))
            if who:
                started_by.setdefault(run_id, who)
            who = who or started_by.get(run_id, "")
        result.append(Row(index, entry, who))
    return result


# -- filters -------------------------------------------------------------------------------


def _entry_time(entry: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(entry.get("ts", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The filters given, by option name, each a test on a row."""
    tests = {
        "--type": args.type and (lambda row: row.type == args.type),
        "--requester": args.requester and (lambda row: row.who == args.requester),
        "--authorisation": args.authorisation and (lambda row: row.authorisation == args.authorisation),
        "--refusals": args.refusals and (lambda row: row.refused),
        "--since": args.since and (lambda row: (t := _entry_time(row.entry)) is not None and t >= args.since),
        "--until": args.until and (lambda row: (t := _entry_time(row.entry)) is not None and t < args.until),
    }
    return {name: test for name, test in tests.items() if test}


def _held(name: str, every: list[Row]) -> str:
    """What the log holds for the field a filter looks at (for the no-match warning)."""
    values = {
        "--type": {row.type for row in every},
        "--requester": {row.who for row in every},
        "--authorisation": {row.authorisation for row in every},
    }.get(name)
    if values is None:
        times = sorted(row.time[:19] for row in every if row.time)
        return f"the entries run from {times[0]} to {times[-1]}" if times else "no entry has a time"
    values.discard("")
    listed = sorted(values)
    shown = ", ".join(listed[:12]) + (f" and {len(listed) - 12} more" if len(listed) > 12 else "")
    return f"values in the log: {shown}" if listed else "no entry has this field"


def no_match_warning(args: argparse.Namespace, every: list[Row], filters: dict[str, Any]) -> str:
    """Why nothing was selected, naming each filter that alone matches nothing."""
    if not every:
        return f"the log in {args.log} has no entries"
    lines = [f"no entry of the {len(every)} in {args.log} matches the filters"]
    alone = [name for name, test in filters.items() if not any(test(row) for row in every)]
    for name in alone:
        value = "" if name == "--refusals" else f" {getattr(args, name[2:])}"
        lines.append(f"  {name}{value} matches nothing; {_held(name, every)}")
    if not alone:
        lines.append("  each filter matches some entries, but none matches them all")
    return "\n".join(lines)


# -- output --------------------------------------------------------------------------------


def _print_table(log: Path, selected: list[Row]) -> None:
    """Rows grouped by day (a day's date on a row of its own), hashes left to CSV/JSON,
    so that the details keep a readable width at 80 columns."""
    table = Table(title=f"Audit log {log}: {len(selected)} entries (times UTC)", box=box.SIMPLE_HEAD,
                  pad_edge=False, title_justify="left", collapse_padding=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("type", overflow="fold", max_width=8)
    table.add_column("who", overflow="fold")
    table.add_column("decision", no_wrap=True)
    table.add_column("details", overflow="fold", ratio=1)
    day = None
    for row in selected:
        if row.time[:10] != day:
            day = row.time[:10]
            table.add_row("", day, style="bold")
        details = f"{row.authorisation}: {row.details}" if row.authorisation else row.details
        table.add_row(str(row.index), row.time[11:19], row.type, row.who, row.decision, details,
                      style="red" if row.refused else None)
    Console().print(table)


def _print_csv(selected: list[Row]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row.csv_row() for row in selected)


def run_show(args: argparse.Namespace) -> int:
    every = rows(read_entries(args.log))
    filters = _filters(args)
    selected = [row for row in every if all(test(row) for test in filters.values())]
    output = "json" if args.json else args.format
    if output == "json":
        json.dump([{"index": row.index, "who": row.who, "entry": row.entry} for row in selected],
                  sys.stdout, ensure_ascii=False, indent=2)
        print()
    elif output == "csv":
        _print_csv(selected)
    elif selected:
        _print_table(args.log, selected)
    if not selected:
        print(f"linkage audit show: warning: {no_match_warning(args, every, filters)}", file=sys.stderr)
    if output == "table" and selected:
        print("Listed as stored; run 'linkage audit verify' to prove the entries are authentic.",
              file=sys.stderr)
    return 0
