"""The provider-to-groups pipeline the linkage benchmarks share, through the real commands:
``linkage synth`` -> ``linkage encode`` per source -> ``linkage match``, each in its own
process so that its wall time and peak memory are its own; then scoring against truth.csv.

Not a benchmark itself (``make bench`` runs ``bench/bench_*.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linkage.matching.groups_csv import read_groups  # noqa: E402
from linkage.matching.quality import PairQuality, evaluate  # noqa: E402
from linkage.origin import group_of  # noqa: E402
from linkage.synth.extracts import KNOWS_REPLACED  # noqa: E402

SOURCES = ("ksz", "vdab", "integration", "education")
REFERENCE = dt.date(2025, 1, 1)
MIN_GROUP = 100
"""Origin groups with fewer true pairs than this are shown but left out of the recall gap."""


def _ngram(identifier: str, format_: dict, n: int, bits: int, positional: bool = False) -> dict:
    return {"identifier": identifier, "format": format_,
            "hashing": {"comparison": {"type": "ngram", "n": n, "positional": positional},
                        "strategy": {"bitsPerFeature": bits}}}


PROVIDER_SCHEMA = {
    # What a provider writes from clkhash's documentation: one feature per column.
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [
        _ngram("given_names", {"type": "string", "encoding": "utf-8"}, 2, 200),
        _ngram("surname", {"type": "string", "encoding": "utf-8"}, 2, 200),
        _ngram("sex", {"type": "enum", "values": ["M", "F"]}, 1, 50),
        _ngram("birth_date", {"type": "date", "format": "%Y%m%d"}, 1, 200, positional=True),
        _ngram("postcode", {"type": "integer", "minimum": 1000, "maximum": 9999}, 1, 100, positional=True),
    ],
}

STRING_DATE_SCHEMA = {
    # Another provider's choices: patterns on text columns, the birth date a day-first string as
    # bigrams (until normalisation version 4 every such date was counted missing), other weights.
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [
        _ngram("given_names", {"type": "string", "encoding": "utf-8", "pattern": "[A-Za-z '-]*"}, 2, 180),
        _ngram("surname", {"type": "string", "encoding": "utf-8", "maxLength": 64}, 2, 220),
        _ngram("sex", {"type": "enum", "values": ["m", "f"]}, 1, 30),
        _ngram("birth_date", {"type": "string", "encoding": "utf-8", "pattern": "[0-9]{2}/[0-9]{2}/[0-9]{4}"}, 2, 200),
        _ngram("postcode", {"type": "string", "encoding": "utf-8", "pattern": "[0-9]{4}"}, 2, 80),
    ],
}


@dataclass(frozen=True)
class Step:
    seconds: float
    peak_rss_gb: float
    """Peak resident memory of the step's largest process."""
    output: str


def linkage(*argv: str) -> Step:
    """Run ``linkage ARGV...`` in a child process; its wall time and peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "clients.cli", *argv], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"linkage {argv[0]} failed ({process.returncode}):\n{output[-3000:]}")
    return Step(seconds, usage.ru_maxrss / 2**20, output)


def secret_file(folder: Path) -> Path:
    path = folder / "linkage.secret"
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


def fresh_folder(folder: Path) -> Path:
    """Empty ``folder`` (made anew) with a fresh random secret in it; the secret's path."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return secret_file(folder)


def synth(folder: Path, persons: int, seed: int, config: dict | None = None) -> Step:
    argv = ["synth", "--persons", str(persons), "--seed", str(seed), "--force", "--quiet", str(folder / "synth")]
    if config is not None:
        path = folder / "synth-config.json"
        path.write_text(json.dumps(config, indent=1))
        argv += ["--config", str(path)]
    return linkage(*argv)


def encode(folder: Path, source: str, schema: str | Path, secret: Path, workers: int = 2,
           tag: str = "", exact: bool = True) -> tuple[Path, Step]:
    """``exact=False``: CLKs only, without the national-number tokens (the number and, for the
    register, the BIS number it replaced)."""
    target = folder / f"{source}{tag}.parquet"
    tokens = ("--exact-column", "insz") if exact else ()
    if exact and source in KNOWS_REPLACED:
        tokens += ("--replaced-column", "replaced_insz")
    step = linkage("encode", "--schema", str(schema), "--secret-file", str(secret), "--source", source,
                   "--id-column", "record_id", *tokens,
                   "--workers", str(workers), "--quiet", str(folder / "synth" / f"{source}.csv"),
                   "-o", str(target))
    return target, step


def match(folder: Path, encoded: list[Path], tag: str = "", options: tuple[str, ...] = ()) -> tuple[Path, dict, Step]:
    """``linkage match`` with ``options`` (e.g. ``--exhaustive-budget``, ``--dask``)."""
    groups, quality = folder / f"groups{tag}.csv", folder / f"quality{tag}.json"
    step = linkage("match", *map(str, encoded), "-o", str(groups), "--quality-json", str(quality), "--quiet",
                   *options)
    return groups, json.loads(quality.read_text()), step


def truth_and_origin(folder: Path) -> tuple[dict, dict]:
    """(source, record_id) -> person, and person -> SEM region of origin."""
    truth, origin = {}, {}
    with open(folder / "synth" / "truth.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            truth[(row["source"], row["record_id"])] = row["person_id"]
    with open(folder / "synth" / "persons.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            origin[row["person_id"]] = group_of("sem_regions", row["origin_country"] or None, REFERENCE)
    return truth, origin


def score(groups: Path, truth: dict, origin: dict) -> list[PairQuality]:
    return evaluate(read_groups(groups), truth, origin, SOURCES)


def counted_groups(result: PairQuality) -> dict[str, tuple[int, int]]:
    """(found, total) per origin group with enough true pairs to compare recall."""
    return {g: counts for g, counts in result.recall_by_group.items() if counts[1] >= MIN_GROUP}


def sampling_gap(result: PairQuality, draws: int = 20_000, seed: int = 0) -> tuple[float, float]:
    """The recall gap that sampling alone gives (median, 90 % quantile): every origin group with
    enough pairs drawn binomially at the pair's recall over those groups. A measured gap inside
    it does not show that linkage treats origin groups differently; at recall 0.99 and groups of
    about 120 persons its median is near 2 pt."""
    drawn, recall = _drawn_recalls(result, draws, seed)
    if drawn is None:
        return 0.0, 0.0
    gaps = drawn.max(axis=1) - drawn.min(axis=1)
    return float(np.median(gaps)), float(np.quantile(gaps, 0.9))


def sampling_error(result: PairQuality, draws: int = 20_000, seed: int = 0) -> tuple[float, float]:
    """The largest per-group error (median, 90 % quantile) that even a perfect estimate of the
    recall would show: it knows each group's expected recall, but the persons a run misses are
    a binomial draw from it, and the true recall is that draw. At recall 0.99 a group of 120
    persons has a standard deviation of 0.9 pt, so a target of 1 pt per group cannot be met
    there by any estimate."""
    drawn, recall = _drawn_recalls(result, draws, seed)
    if drawn is None:
        return 0.0, 0.0
    errors = np.abs(drawn - recall).max(axis=1)
    return float(np.median(errors)), float(np.quantile(errors, 0.9))


def _drawn_recalls(result: PairQuality, draws: int, seed: int) -> tuple[np.ndarray | None, float]:
    """Recall per counted origin group in ``draws`` binomial draws at the pair's recall over them."""
    counts = list(counted_groups(result).values())
    if len(counts) < 2:
        return None, 0.0
    sizes = np.array([total for _, total in counts])
    recall = sum(found for found, _ in counts) / sizes.sum()
    return np.random.default_rng(seed).binomial(sizes, recall, size=(draws, len(sizes))) / sizes, recall


def recall_gap(result: PairQuality) -> tuple[float, str, str]:
    """Largest recall difference between origin groups with enough pairs: (gap, low, high)."""
    recall = {g: found / total for g, (found, total) in counted_groups(result).items()}
    if len(recall) < 2:
        return 0.0, "", ""
    low, high = min(recall, key=recall.get), max(recall, key=recall.get)
    return recall[high] - recall[low], low, high
