"""Readable labels for category codes (``near_middle_east`` -> "Near and Middle East").

Read from ``data/labels.toml``; presentation only, so a label never changes a figure, a
fingerprint or a version. Codes without a label are made readable mechanically.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Iterable, Mapping


@cache
def _table() -> Mapping[str, Mapping[str, str]]:
    text = (resources.files("linkage.aggregate") / "data" / "labels.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def readable(code: str) -> str:
    """A code made readable when no label is declared: underscores to spaces, first letter up."""
    if not code or not code.replace("_", "").isalpha() or "_" not in code and not code.islower():
        return code
    text = code.replace("_", " ")
    return text[0].upper() + text[1:]


def category_labels(kind: str, categories: Iterable[str]) -> dict[str, str]:
    """Label of each category of a dimension kind (declared, else :func:`readable`)."""
    declared = {**_table().get("any", {}), **_table().get(kind, {})}
    return {code: declared.get(code) or readable(code) for code in categories}
