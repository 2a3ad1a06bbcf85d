"""``linkage aggregate``: ask the broker for a disclosure-controlled table.

    linkage aggregate --broker HOST:PORT --tls-dir DIR --org statistics \\
        --request employment.toml [--format csv|json|table] [-o FILE] [--plot FILE.png]

The request file is checked here first (a mistake is reported without contacting the
broker), then sent; the broker checks the authorisation, computes and protects the table
and answers with the protected cells and the audit receipt. Only aggregate, protected
figures ever reach this side: there is deliberately no offline mode over linked records.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import grpc

from clients.broker_cmds import BrokerCallError, connect
from clients.connection import add_connection_args
from linkage.aggregate import registry
from linkage.aggregate.answer import AggregateAnswer, AnswerCell, render_text
from linkage.aggregate.export import to_tidy_csv, write_outputs
from linkage.aggregate.plot import plot_answer
from linkage.errors import LinkageError
from linkage.files import write_atomic
from linkage.aggregate.request import AggregateRequest, load_request
from linkage.aggregate.service import answer_dimensions, answer_table, describe
from proto.linkage.v1 import statistics_pb2, statistics_pb2_grpc
from server.statistics import RETRY_AFTER

FORMATS = ("table", "csv", "json", "parquet")


class OutputError(LinkageError):
    """The table or chart cannot be written where asked."""


def request_message(request: AggregateRequest) -> statistics_pb2.AggregateRequest:
    return statistics_pb2.AggregateRequest(
        authorisation=request.authorisation, population=request.population,
        periods=list(request.periods), measures=list(request.measures),
        dimensions=[d.key for d in request.dimensions],
        reference_date=request.reference_date.isoformat(),
    )


class StillAuditing(BrokerCallError):
    """The broker is still auditing the table against earlier releases: ask again after
    ``retry_after`` seconds (the same request then joins that audit or gets the table)."""

    def __init__(self, code: grpc.StatusCode, details: str, retry_after: float) -> None:
        super().__init__(code, details)
        self.retry_after = retry_after


def call_aggregate(channel: grpc.Channel, request: AggregateRequest,
                   timeout: float | None = None) -> statistics_pb2.AggregateResponse:
    """One Aggregate call; a refusal becomes a BrokerCallError with the broker's reason,
    a table still being audited a StillAuditing."""
    stub = statistics_pb2_grpc.StatisticsServiceStub(channel)
    try:
        return stub.Aggregate(request_message(request), timeout=timeout)
    except grpc.RpcError as exc:
        details = exc.details() or "no details"
        after = dict(exc.trailing_metadata() or ()).get(RETRY_AFTER)
        if after is not None:
            raise StillAuditing(exc.code(), details, float(after)) from None
        raise BrokerCallError(exc.code(), details) from None


def ask_broker(channel: grpc.Channel, request: AggregateRequest, timeout: float | None = None,
               on_wait: Callable[[str], None] | None = None) -> statistics_pb2.AggregateResponse:
    """Send a validated request, asking again while the broker says the table is still being
    audited (``on_wait`` gets its words each time), for ``timeout`` seconds in all; a refusal
    becomes a BrokerCallError with the broker's reason."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if end is None else end - time.monotonic()
        try:
            return call_aggregate(channel, request, left)
        except StillAuditing as waiting:
            if end is not None and time.monotonic() + waiting.retry_after >= end:
                raise BrokerCallError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                      f"gave up waiting after {timeout:g} s: {waiting.details}") from None
            if on_wait is not None:
                on_wait(waiting.details)
            time.sleep(waiting.retry_after)


def answer_from_response(request: AggregateRequest,
                         response: statistics_pb2.AggregateResponse) -> AggregateAnswer:
    """The broker's protected cells as an answer, labelled with this library's registry."""
    dimensions = answer_dimensions(request)
    names = [d.name for d in dimensions]
    cells: dict[str, list[AnswerCell]] = defaultdict(list)
    for cell in response.cells:
        coordinates = {c.dimension: c.category for c in cell.coordinates}
        key = tuple(coordinates[name] for name in names)
        rate = registry.measure(cell.measure).kind == "rate"
        if rate:
            count = cell.denominator if cell.HasField("denominator") else None
            numerator = cell.numerator if cell.HasField("numerator") else None
        else:
            count = int(cell.value) if cell.HasField("value") else None
            numerator = None
        # Whatever a broker says beyond "published" (an older one said why), the requester's
        # outputs say "suppressed" and nothing more.
        status = "published" if cell.status == "published" else "suppressed"
        cells[cell.measure].append(AnswerCell(key, count, numerator, status))
    tables = tuple(
        answer_table(registry.measure(name), dimensions, tuple(cells[name]), {})
        for name in request.measures
    )
    metadata = describe(request)
    notes = list(metadata["notes"])
    if response.registry_version != registry.REGISTRY_VERSION:
        notes.append(f"The broker uses registry version {response.registry_version}; the labels "
                     f"here come from version {registry.REGISTRY_VERSION}. Update this client.")
    head = response.audit_receipt.head
    metadata.update(
        registry_version=response.registry_version, rules_version=response.rules_version,
        definitions_version=response.definitions_version, min_cell_size=response.min_cell_size,
        linkage_snapshot=response.run_id, notes=notes,
        audit_receipt={"leaf_index": response.audit_receipt.leaf_index,
                       "tree_size": head.tree_size, "tree_head": _tree_head(head.json)},
    )
    return AggregateAnswer(request.to_dict(), metadata, tables)


def _tree_head(text: str) -> dict | str:
    """The signed tree head as JSON inside the answer's JSON, not a string of JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def render(answer: AggregateAnswer, form: str) -> str:
    if form == "csv":
        return to_tidy_csv(answer)
    if form == "json":
        return answer.to_json() + "\n"
    return render_text(answer)


def write_atomically(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None


def _aggregate(args: argparse.Namespace) -> int:
    if args.format == "parquet" and not args.output:
        raise OutputError("--format parquet needs -o FILE.parquet (Parquet is not written to a terminal)")
    request = load_request(args.request)
    if args.plot_measure and args.plot_measure not in request.measures:
        raise OutputError(f"--plot-measure {args.plot_measure} is not among the request's measures "
                          f"({', '.join(request.measures)})")
    for target in (args.output, args.plot):
        if target and not Path(target).resolve().parent.is_dir():
            raise OutputError(f"cannot write {target}: its folder does not exist")
    channel = connect(args.broker, args.tls_dir, args.org)
    with channel:
        response = ask_broker(channel, request, timeout=args.timeout,
                              on_wait=lambda words: print(f"waiting: {words}", file=sys.stderr))
    answer = answer_from_response(request, response)
    if args.output and args.format in ("csv", "parquet"):
        try:
            written = write_outputs(answer, Path(args.output), args.format)
        except OSError as exc:
            raise OutputError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {written[0]} and its metadata {written[1].name}", file=sys.stderr)
    elif args.output:
        write_atomically(Path(args.output), render(answer, args.format))
    else:
        sys.stdout.write(render(answer, args.format))
    if args.plot:
        plot_answer(answer, args.plot, measure=args.plot_measure)
    receipt = answer.metadata["audit_receipt"]
    print(f"released under {request.authorisation}; audit log entry {receipt['leaf_index']} "
          f"(tree size {receipt['tree_size']})", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "aggregate", help="ask the broker for a disclosure-controlled aggregate table",
        description="Send a statistics request (TOML; see docs/aggregate.md) to the broker and "
                    "print the protected table: suppressed cells are marked, never filled in.",
    )
    add_connection_args(parser)
    parser.add_argument("--request", required=True, metavar="FILE.toml", help="the request file")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (text), csv (tidy, with label columns), json, or parquet (default: table)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the table here instead of stdout; with csv or parquet also "
                        "FILE.metadata.json (definitions, versions, authorisation, receipt)")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw a chart of one measure")
    parser.add_argument("--plot-measure", metavar="NAME",
                        help="the measure to draw (default: the first rate in the request)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="give up after this long (default 600)")
    parser.set_defaults(func=_aggregate)
