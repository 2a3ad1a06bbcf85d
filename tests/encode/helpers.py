"""Helpers for the encoding tests: valid national numbers, people, CSV files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

SECRET = b"test-secret-0123456789abcdef0123456789abcdef"

IDENTIFIER_COLUMNS = ["record_id", "insz", "given_names", "surname", "birth_date", "sex", "postcode"]
VDAB_PAYLOAD = ["registration_date", "exit_date", "exit_reason", "education_level"]


def national_number(birth: dt.date, counter: int, bis_offset: int = 0) -> str:
    """An 11-digit national-register (or, with an offset of 20/40, BIS) number."""
    base = f"{birth.year % 100:02d}{birth.month + bis_offset:02d}{birth.day:02d}{counter:03d}"
    value = int(base) + (2_000_000_000 if birth.year >= 2000 else 0)
    return base + f"{97 - value % 97:02d}"


def person(i: int, **overrides) -> dict:
    birth = dt.date(1960 + i % 40, 1 + i % 12, 2 + i % 27)   # never 1 January, a placeholder
    row = {
        "record_id": f"p{i}",
        "insz": national_number(birth, 1 + i % 997),
        "given_names": ["Jan Pieter", "Fatima", "Mohamed Amine", "Łukasz", "Ayşe"][i % 5],
        "surname": ["Van den Broeck", "El Amrani", "Peeters", "Kowalski", "Yılmaz"][i % 5] + ("" if i < 5 else f"x{i}"),
        "birth_date": birth.strftime("%d/%m/%Y"),
        "sex": "MF"[i % 2],
        "postcode": "2000",
        "registration_date": "2023-01-05",
        "exit_date": "",
        "exit_reason": "",
        "education_level": "medium",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None, delimiter: str = ",") -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def encoded_bits(path: Path, schema) -> np.ndarray:
    """The CLKs of a CSV of vdab records encoded under :data:`SECRET`, as a bool matrix."""
    from linkage.encoding import encode_csv

    clks = np.asarray(encode_csv(path, schema, SECRET, source="vdab")[0].clks, dtype=np.uint8)
    return np.unpackbits(clks, axis=1).astype(bool)


def dice_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice coefficient of every row of ``a`` against every row of ``b`` (bool matrices)."""
    return 2 * (a[:, None, :] & b[None, :, :]).sum(2) / (a.sum(1)[:, None] + b.sum(1)[None, :])


TEXT = {"type": "string", "encoding": "utf-8"}


def clkhash_feature(identifier: str, format_: dict, n: int = 2, bits: int = 100) -> dict:
    """A clkhash v3 feature as a provider writes it: n-grams, bits per feature."""
    return {"identifier": identifier, "format": format_,
            "hashing": {"comparison": {"type": "ngram", "n": n}, "strategy": {"bitsPerFeature": bits}}}
