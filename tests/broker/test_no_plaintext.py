"""After uploads and a run, no plaintext identifier of the inputs is anywhere in the
broker's data directory, nor in its log."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from clients.broker_cmds import connect, start_run, upload_extract, watch_run
from linkage.encoding import encode_csv
from linkage.extract import read_extract, write_extract
from linkage.sources import source_spec
from proto.linkage.v1 import broker_pb2
from server.process import BrokerProcess
from tests.broker.helpers import payload_value

SECRET = b"broker-test-secret-0123456789abcdef0123456789"
GIVEN = ["Fatimazahra", "Wouter", "Anneleen", "Mohamed Amine", "Oksana", "Krzysztof", "Nokuthula"]
SURNAMES = ["Oudghiri", "Vandenbroucke", "Verstraeten", "El Khattabi", "Shevchenko", "Wisniewski", "Dlamini"]

pytestmark = pytest.mark.timeout(180)


def national_number(birth: dt.date, counter: int) -> str:
    base = f"{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}{counter:03d}"
    value = int(base) + (2_000_000_000 if birth.year >= 2000 else 0)
    return base + f"{97 - value % 97:02d}"


def people(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        birth = dt.date(1950 + (i * 7) % 60, 1 + i % 12, 1 + (i * 3) % 28)
        rows.append({
            "record_id": f"r{i:04d}",
            "insz": national_number(birth, 100 + i),
            "given_names": GIVEN[i % len(GIVEN)] + ("" if i < len(GIVEN) else f"{chr(97 + i % 26)}x"),
            "surname": SURNAMES[(i // 2) % len(SURNAMES)] + ("" if i < len(SURNAMES) else f"q{i}"),
            "birth_date": birth.strftime("%d/%m/%Y"),
            "sex": "MF"[i % 2],
        })
    return rows


def write_source_csv(path, source: str, rows: list[dict]) -> None:
    spec = source_spec(source)
    columns = list(dict.fromkeys([*rows[0], *(a.name for a in spec.payload)]))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for i, row in enumerate(rows):
            payload = {a.name: payload_value(a, i) for a in spec.payload if a.name not in row}
            writer.writerow({**row, **{k: ("1" if v is True else "0" if v is False else str(v))
                                       for k, v in payload.items()}})


def test_no_plaintext_identifier_reaches_the_broker(pki, tmp_path):
    rows = people(60)
    extracts = {}
    for source, chosen in (("ksz", rows), ("vdab", rows[:40]), ("integration", rows[20:50])):
        csv_path = tmp_path / f"{source}.csv"
        write_source_csv(csv_path, source, chosen)
        extract, _ = encode_csv(csv_path, "belgian-v1", SECRET, source=source, id_column="record_id",
                                exact_column="insz", workers=1)
        extracts[source] = tmp_path / f"{source}.parquet"
        write_extract(extracts[source], extract)

    data = tmp_path / "data"
    broker = BrokerProcess(pki, pki / "policy.toml", data)
    try:
        for source, path in extracts.items():
            upload_extract(connect(broker.address, pki, source), path)
        operator = connect(broker.address, pki, "operator")
        finished = watch_run(operator, start_run(operator).run_id)
        assert finished.state == broker_pb2.RUN_STATE_COMPLETED, finished.error
    finally:
        assert broker.terminate() == 0

    needles = set()
    for row in rows:
        birth = dt.datetime.strptime(row["birth_date"], "%d/%m/%Y").date()
        needles |= {row["insz"], row["surname"], row["given_names"], row["birth_date"], birth.isoformat(),
                    birth.strftime("%Y%m%d"), row["surname"].upper(), row["surname"].lower()}
    needles = {needle.encode() for needle in needles if len(needle) >= 6}
    haystacks = [path for path in data.rglob("*") if path.is_file()] + [broker.log_path]
    assert len(haystacks) >= 4
    for path in haystacks:
        content = path.read_bytes()
        found = [needle for needle in needles if needle in content]
        assert not found, f"{path.name} holds plaintext identifiers"
    encodings = [bytes(read_extract(path).clks[0]) for path in extracts.values()]
    for path in haystacks:
        content = path.read_bytes()
        assert not any(clk in content for clk in encodings), f"{path.name} holds a CLK unencrypted"
