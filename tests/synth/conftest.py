"""Generated data sets shared by the synth tests (generated once per test session)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from linkage.synth import generate


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class Dataset:
    def __init__(self, outdir: Path, summary) -> None:
        self.outdir = outdir
        self.summary = summary
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._cache:
            self._cache[name] = read_csv(self.outdir / f"{name}.csv")
        return self._cache[name]

    def persons(self) -> dict[str, dict[str, str]]:
        return {row["person_id"]: row for row in self.rows("persons")}

    def person_of(self, source: str) -> dict[str, str]:
        """record_id -> person_id for one source."""
        return {t["record_id"]: t["person_id"] for t in self.rows("truth") if t["source"] == source}


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Dataset:
    outdir = tmp_path_factory.mktemp("synth") / "small"
    return Dataset(outdir, generate(6000, 11, outdir))


@pytest.fixture(scope="session")
def large(tmp_path_factory) -> Dataset:
    """20,000 persons: enough for shares within a percentage point or two."""
    outdir = tmp_path_factory.mktemp("synth") / "large"
    return Dataset(outdir, generate(20000, 5, outdir))
