"""The attack scenario: a broker that holds encoded ksz records, and an attacker's plaintext list.

The victim's records come from ``linkage synth`` (source ksz) and are encoded with
``encode_csv`` under the victim's secret. The attacker holds names and birth dates of
``overlap`` of the encoded persons plus other persons of the same population (a population
register is the 100 % case) and knows everything public: the schema, the normalisation
rules and the encoding code. The attacker encodes its own list with the same public schema
under a secret of its own, to get similarities on the same scale; the victim's secret is
never used by any attack. Ground truth (person ids, true names, labels) is kept apart and
only the scoring reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linkage.encoding import encode_csv, load_schema
from linkage.encoding.features import plan_features
from linkage.encoding.keys import name_key_features
from linkage.encoding.schema import LinkageSchema
from linkage.synth import generate

NAME_COLUMNS = {"given_names", "surname"}
BELGIUM, MOROCCO = "150", "354"


@dataclass(frozen=True)
class Plaintext:
    """Records as the attacker (or the truth) sees them, in the order of ``person``."""

    person: np.ndarray
    """Person ids (the truth: for scoring only)."""
    values: list[tuple[str | None, ...]]
    """Per record, the normalised value of each schema feature (None when missing)."""
    tokens: list[list[tuple[int, str]]]
    """Per record, the (feature index, token) items the encoder hashes."""
    bits_per_token: list[dict[tuple[int, str], int]]
    """Per record, the bits each item sets (fewer when a value has more tokens)."""
    name: list[tuple[str | None, ...]]
    """Per record, the values of its name features (what pattern mining must rebuild)."""
    name_features: frozenset[int]
    """The schema features that hold names."""


@dataclass(frozen=True)
class Scenario:
    schema_name: str
    overlap: float
    victim_bits: np.ndarray
    """(n, l) bool: the encodings the broker holds."""
    victim: Plaintext
    """The truth behind ``victim_bits`` (scoring only)."""
    attacker: Plaintext
    """The attacker's plaintext list."""
    attacker_bits: np.ndarray
    """(m, l) bool: the attacker's list encoded with the public schema and the attacker's key."""
    labels: dict[str, np.ndarray]
    """Per encoded record: ``sex`` (1 = F), ``birth_year``, ``origin`` (1 Moroccan, 0 Belgian,
    -1 other); the truth for the attribute-inference attack."""


def population(persons: int, seed: int, workdir: Path) -> tuple[list[dict], dict[str, dict]]:
    """The ksz rows (one per person, the register) and the persons of a synthetic population."""
    generate(persons, seed, workdir / "synth")
    with open(workdir / "synth" / "persons.csv", newline="") as handle:
        people = {row["person_id"]: row for row in csv.DictReader(handle)}
    with open(workdir / "synth" / "truth.csv", newline="") as handle:
        owner = {row["record_id"]: row["person_id"] for row in csv.DictReader(handle) if row["source"] == "ksz"}
    seen, rows = set(), []
    with open(workdir / "synth" / "ksz.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            person = owner[row["record_id"]]
            if person not in seen:
                seen.add(person)
                rows.append({**row, "person_id": person})
    return rows, people


def build(schema_name: str, records: int, overlap: float, seed: int) -> Scenario:
    """``records`` encoded records and an attacker list of as many, sharing ``overlap`` of them."""
    schema = load_schema(schema_name)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        workdir = Path(tmp)
        rows, people = population(int(records * 2.2), seed, workdir)
        order = rng.permutation(len(rows))
        victim_rows = [rows[i] for i in order[:records]]
        shared = int(round(records * overlap))
        outside = [rows[i] for i in order[records:records + records - shared]]
        attacker_rows = [victim_rows[i] for i in rng.permutation(records)[:shared]] + outside
        attacker_rows = [attacker_rows[i] for i in rng.permutation(len(attacker_rows))]
        # Two different keys drawn from the scenario's seed (a run can be repeated); only the
        # encoder ever sees the victim's.
        victim_bits = encode_rows(victim_rows, schema, rng.bytes(32), workdir / "victim.csv")
        # The attacker encodes its own list without bit flips (BLIP): cleaner similarities.
        attacker_bits = encode_rows(attacker_rows, schema.without_blip(), rng.bytes(32), workdir / "attacker.csv")
    return Scenario(
        schema_name=schema_name,
        overlap=overlap,
        victim_bits=victim_bits,
        victim=plaintext(victim_rows, schema),
        attacker=plaintext(attacker_rows, schema),
        attacker_bits=attacker_bits,
        labels=_labels(victim_rows, people),
    )


def encode_rows(rows: list[dict], schema: LinkageSchema, secret: bytes, path: Path) -> np.ndarray:
    """Encode rows with the project's own ``encode_csv``; the CLKs as a bool matrix."""
    columns = [name for name in rows[0] if name != "person_id"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    extract, _ = encode_csv(path, schema, secret, source="ksz", id_column="record_id",
                            exact_column="insz", max_rejected=len(rows))
    if len(extract.record_ids) != len(rows):
        raise RuntimeError("the generator produced rows the encoder rejects; the scenario needs all of them")
    return np.unpackbits(np.asarray(extract.clks), axis=1).astype(bool)


def plaintext(rows: list[dict], schema: LinkageSchema) -> Plaintext:
    """What the public schema and normalisation make of each row (no secret involved)."""
    clk_schema = schema.clkhash_schema()
    features = plan_features(clk_schema.fields)
    names = [i for i, f in enumerate(features) if f is not None and NAME_COLUMNS.intersection(f.columns)]
    keyed = name_key_features(features)
    key_of = {i: keyed[0] for i in keyed}      # the encoder hashes these under one key (keys.py)
    values, tokens, bits = [], [], []
    for row in rows:
        record = tuple(None if f is None else f.cell_value(*(row[c] for c in f.columns)) for f in features)
        items: list[tuple[int, str]] = []
        weights: dict[tuple[int, str], int] = {}
        for index, (feature, value) in enumerate(zip(clk_schema.fields, record)):
            if value is None or feature.hashing_properties is None:
                continue
            properties = feature.hashing_properties
            grams = list(properties.comparator.tokenize(value))
            for gram, k in zip(grams, properties.strategy.bits_per_token(len(grams))):
                item = (key_of.get(index, index), gram)
                items.append(item)
                weights[item] = max(weights.get(item, 0), k)
        values.append(record)
        tokens.append(list(dict.fromkeys(items)))
        bits.append(weights)
    return Plaintext(
        person=np.array([row["person_id"] for row in rows]),
        values=values,
        tokens=tokens,
        bits_per_token=bits,
        name=[tuple(record[i] for i in names) for record in values],
        name_features=frozenset(names),
    )


def _labels(rows: list[dict], people: dict[str, dict]) -> dict[str, np.ndarray]:
    sex = np.array([row["sex"] == "F" for row in rows], dtype=float)
    year = np.array([dt.date.fromisoformat(people[row["person_id"]]["birth_date"]).year for row in rows])
    country = [people[row["person_id"]]["origin_country"] for row in rows]
    origin = np.array([1 if c == MOROCCO else 0 if c == BELGIUM else -1 for c in country])
    return {"sex": sex, "birth_year": year, "origin": origin}
