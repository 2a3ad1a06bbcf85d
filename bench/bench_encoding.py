"""Encoding benchmarks: throughput of ``linkage encode`` and the cost of salting by year of birth.

Run: ``.venv/bin/python bench/bench_encoding.py`` (100,000 records for throughput, 10,000
true pairs for the salting study) or ``BENCH_QUICK=1 .venv/bin/python bench/bench_encoding.py``
(small sizes). Figures go to stdout.

The people are made here (names from Faker's Belgian, French, Maghreb, Turkish, Polish and
Romanian locales, with double given names and particles), so the figures do not depend on
the synthetic-population generator. Source B holds corrupted copies of source A's people:
typos in names, fewer given names, particle and accent spellings, other date notations,
day ± 1, day-month swaps, unknown day and month, and a year of birth that differs in
``YOB_ERROR`` of the pairs.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clkhash import bloomfilter  # noqa: E402
from clkhash.clk import generate_clks  # noqa: E402

from linkage.encoding import encode_csv, load_schema  # noqa: E402
from linkage.encoding.features import plan_features  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
THROUGHPUT_RECORDS = 10_000 if QUICK else 100_000
PAIRS = 2_000 if QUICK else 10_000
YOB_ERROR = 0.02
"""Share of true pairs whose year of birth differs between sources (real registers: 1-3 %)."""
SECRET = b"benchmark secret, 32 bytes or more, not for production"
COLUMNS = ["record_id", "insz", "given_names", "surname", "birth_date", "sex", "postcode",
           "registration_date", "exit_date", "exit_reason", "education_level"]
LOCALES = [("nl_BE", 0.70), ("fr_FR", 0.08), ("fr_DZ", 0.10), ("tr_TR", 0.05), ("pl_PL", 0.04), ("ro_RO", 0.03)]


def people(n: int, rng: random.Random) -> list[dict]:
    fakers = {locale: Faker(locale) for locale, _ in LOCALES}
    for seed, faker in enumerate(fakers.values()):
        faker.seed_instance(rng.randrange(1 << 30) + seed)
    locales = rng.choices([locale for locale, _ in LOCALES], [w for _, w in LOCALES], k=n)
    rows = []
    for i, locale in enumerate(locales):
        faker = fakers[locale]
        female = rng.random() < 0.5
        given = faker.first_name_female if female else faker.first_name_male
        names = " ".join(given() for _ in range(rng.choice([1, 1, 2, 2, 3])))
        family = faker.last_name()
        if locale == "nl_BE" and rng.random() < 0.15:
            family = rng.choice(["Van den", "Van der", "De", "Vande", "Van"]) + " " + family
        if locale == "fr_DZ" and rng.random() < 0.3:
            family = rng.choice(["El", "Ben", "Ait", "Abou"]) + " " + family
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(65 * 365))
        rows.append({
            "record_id": f"r{i}", "insz": "", "given_names": names, "surname": family,
            "birth_date": birth.strftime("%d/%m/%Y"), "sex": "F" if female else "M", "postcode": "2000",
            "registration_date": "2023-01-05", "exit_date": "", "exit_reason": "", "education_level": "medium",
            "_birth": birth,
        })
    return rows


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + rng.choice("aeiounrst") + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def corrupt(row: dict, rng: random.Random, yob_error: bool) -> dict:
    copy = dict(row)
    given = row["given_names"]
    if rng.random() < 0.25:
        given = given.split(" ")[0]
    if rng.random() < 0.15:
        given = typo(given, rng)
    family = row["surname"]
    if rng.random() < 0.15:
        family = typo(family, rng)
    if rng.random() < 0.2:
        family = family.upper().replace(" ", rng.choice(["", "-", " "]))
    birth = row["_birth"]
    if rng.random() < 0.02:
        birth = birth + dt.timedelta(days=rng.choice([-1, 1]))
    if rng.random() < 0.01 and birth.day <= 12:
        birth = dt.date(birth.year, birth.day, birth.month)
    if yob_error:
        year = birth.year + rng.choice([-1, 1])
        birth = dt.date(year, birth.month, min(birth.day, 28))
    date_text = birth.isoformat()
    if rng.random() < 0.01:
        date_text = f"{birth.year}-00-00"
    copy.update(given_names=given, surname=family, birth_date=date_text, _birth=birth)
    return copy


def write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers (the machine may be shared)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def cold_caches() -> None:
    """clkhash keeps per-process LRU caches of hashed n-grams; start each run without them."""
    bloomfilter._blake_encode_ngrams.cache_clear()
    bloomfilter.blake_hash_token.cache_clear()


def throughput(tmp: Path, rng: random.Random) -> None:
    base = people(2_000, rng)
    rows = [dict(base[i % len(base)], record_id=f"t{i}") for i in range(THROUGHPUT_RECORDS)]
    for i, row in enumerate(rows):  # unique surnames defeat clkhash's caches in part
        row["surname"] = f"{row['surname']} {typo('abcdefgh', random.Random(i))}"
    path = write(tmp / "throughput.csv", rows)
    schema = load_schema("belgian-v1")
    print(f"throughput, belgian-v1, {THROUGHPUT_RECORDS} records, {os.cpu_count()} CPUs")
    for workers in (1, 2):
        cold_caches()
        start, cpu = time.perf_counter(), cpu_seconds()
        extract, summary = encode_csv(path, schema, SECRET, source="vdab", workers=workers)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        n = extract.header.record_count
        print(f"  linkage encode_csv, {summary.workers} process(es): {seconds:.2f} s wall, "
              f"{n / seconds:,.0f} records/s; {cpu:.2f} CPU-s, {n / cpu:,.0f} records per CPU-second "
              "(read, normalise, validate, hash)")
    # The features set the schema's missing-value handling: plan them on the instance hashed.
    clkhash_schema = schema.clkhash_schema()
    features = [f for f in plan_features(clkhash_schema.fields) if f is not None]
    values = [[f.cell_value(*(str(r[c]) for c in f.columns)) or f.missing_token for f in features]
              for r in rows]
    cold_caches()
    start, cpu = time.perf_counter(), cpu_seconds()
    generate_clks(values, clkhash_schema, SECRET, max_workers=1)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(f"  clkhash generate_clks alone on normalised values, 1 process: {seconds:.2f} s wall, "
          f"{len(values) / seconds:,.0f} records/s; {len(values) / cpu:,.0f} records per CPU-second")


def dice_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.view(np.uint64), b.view(np.uint64)
    pa = np.bitwise_count(a64).sum(axis=1).astype(np.float32)
    pb = np.bitwise_count(b64).sum(axis=1).astype(np.float32)
    out = np.empty((len(a), len(b)), dtype=np.float32)
    for start in range(0, len(a), 64):
        block = a64[start:start + 64]
        common = np.bitwise_count(block[:, None, :] & b64[None, :, :]).sum(axis=2)
        denominator = pa[start:start + 64, None] + pb[None, :]
        out[start:start + 64] = np.divide(2 * common, denominator, out=np.zeros_like(denominator),
                                          where=denominator > 0)
    return out


def scores(tmp: Path, a_rows, b_rows, salted: bool):
    """Dice of true pairs, and of all other pairs that are compared (same salt group)."""
    schema = load_schema("belgian-v1")
    groups = sorted({r["_birth"].year for r in a_rows + b_rows}) if salted else [None]
    clk_a = np.zeros((len(a_rows), 128), np.uint8)
    clk_b = np.zeros((len(b_rows), 128), np.uint8)
    for year in groups:
        secret = SECRET + f"|yob={year}".encode() if salted else SECRET
        for rows, target, name in ((a_rows, clk_a, "a"), (b_rows, clk_b, "b")):
            index = [i for i, r in enumerate(rows) if year is None or r["_birth"].year == year]
            if not index:
                continue
            extract, _ = encode_csv(write(tmp / f"{name}.csv", [rows[i] for i in index]), schema, secret,
                                    source="vdab", workers=1)
            target[index] = extract.clks
    matrix = dice_matrix(clk_a, clk_b)
    true = np.diag(matrix).copy()
    if salted:
        year_a = np.array([r["_birth"].year for r in a_rows])
        year_b = np.array([r["_birth"].year for r in b_rows])
        compared = year_a[:, None] == year_b[None, :]
    else:
        compared = np.ones_like(matrix, dtype=bool)
    np.fill_diagonal(compared, False)
    return true, matrix[compared], clk_a


def leakage(clks: np.ndarray, rows: list[dict]) -> tuple[float, float]:
    """Best principal component's sex accuracy (median split) and |corr| with year of birth."""
    bits = np.unpackbits(clks, axis=1).astype(np.float32)
    bits -= bits.mean(axis=0)
    _, _, vt = np.linalg.svd(bits, full_matrices=False)
    components = bits @ vt[:10].T
    female = np.array([r["sex"] == "F" for r in rows])
    year = np.array([r["_birth"].year for r in rows], dtype=np.float32)
    sex_accuracy = max(max(np.mean((c > np.median(c)) == female), np.mean((c <= np.median(c)) == female))
                       for c in components.T)
    year_corr = max(abs(np.corrcoef(c, year)[0, 1]) for c in components.T)
    return float(sex_accuracy), float(year_corr)


def salting(tmp: Path, rng: random.Random) -> None:
    a_rows = people(PAIRS, rng)
    yob_wrong = np.array([rng.random() < YOB_ERROR for _ in a_rows])
    b_rows = [corrupt(r, rng, bool(wrong)) for r, wrong in zip(a_rows, yob_wrong)]
    print(f"salting by year of birth, belgian-v1, {PAIRS} true pairs, "
          f"{yob_wrong.sum()} ({yob_wrong.mean():.1%}) with a different year of birth")
    results = {}
    for salted in (False, True):
        true, others, clks = scores(tmp, a_rows, b_rows, salted)
        results[salted] = (true, others, clks)
    thresholds = np.arange(0.60, 0.96, 0.01)
    true, others, _ = results[False]

    def quality(true, others, t):
        tp = int((true >= t).sum())
        fp = int((others >= t).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / len(true)
        return precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0

    best = max(thresholds, key=lambda t: quality(true, others, t)[2])
    for salted in (False, True):
        true, others, clks = results[salted]
        p, r, f = quality(true, others, best)
        r_wrong = float((true[yob_wrong] >= best).mean()) if yob_wrong.any() else float("nan")
        r_right = float((true[~yob_wrong] >= best).mean())
        sex_acc, year_corr = leakage(clks, a_rows)
        label = "salted by YOB" if salted else "unsalted     "
        print(f"  {label} threshold {best:.2f}: precision {p:.4f} recall {r:.4f} F1 {f:.4f}; "
              f"recall on pairs with same YOB {r_right:.4f}, with different YOB {r_wrong:.4f}; "
              f"compared pairs {len(others) + len(true):,}; "
              f"leakage: best-PC sex accuracy {sex_acc:.3f}, |corr| with YOB {year_corr:.3f}")


def main() -> None:
    rng = random.Random(20261123)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        throughput(tmp, rng)
        salting(tmp, rng)


if __name__ == "__main__":
    main()
