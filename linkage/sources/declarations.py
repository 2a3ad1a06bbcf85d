"""Reading source declarations (format ``linkage-source/1``) from TOML files.

One file per source. The bundled four live in ``linkage/sources/data``; an operator adds a
source (a municipality, Statbel ...) by putting a file of the same format in the folder named
by ``LINKAGE_SOURCES_DIR``: the encoder, the broker and the statistics registry then know it,
with no code change. Each set of declarations is versioned by a fingerprint of its content
(like the origin definitions), and that fingerprint is the payload version an extract carries.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from linkage.sources.attributes import KINDS, ROLES, Attribute, PayloadError, SourceSpec

FORMAT = "linkage-source/1"
ENVIRONMENT = "LINKAGE_SOURCES_DIR"
IDENTIFIER_NAMES = frozenset({"name", "surname", "given_name", "given_names", "first_name", "last_name",
                              "birth_date", "date_of_birth", "dob", "insz", "ssin", "national_number",
                              "postcode", "address", "street", "record_id", "email", "phone"})
"""Payload may never carry these: identifiers are encoded, not declared as payload."""

_ATTRIBUTE_KEYS = {"name", "kind", "description", "allowed", "pattern", "minimum", "maximum", "codes", "years", "role"}


class SourceDeclarationError(PayloadError):
    """A source declaration file is not valid; the message names the file and the field."""


def _attributes(entry: dict[str, Any], where: str) -> list[Attribute]:
    unknown = sorted(set(entry) - _ATTRIBUTE_KEYS)
    if unknown:
        raise SourceDeclarationError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                                     f"{', '.join(sorted(_ATTRIBUTE_KEYS))}")
    for required in ("name", "kind", "description"):
        if not isinstance(entry.get(required), str) or not entry[required]:
            raise SourceDeclarationError(f"{where}: '{required}' must be a non-empty string")
    if entry["kind"] not in KINDS:
        raise SourceDeclarationError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    if entry["kind"] == "category" and not entry.get("allowed"):
        raise SourceDeclarationError(f"{where}: a category needs 'allowed' values")
    years = entry.get("years")
    if years is not None and ("{year}" not in entry["name"] or not all(isinstance(y, int) for y in years)):
        raise SourceDeclarationError(f"{where}: 'years' needs whole years and a name containing {{year}}")
    role = entry.get("role", "")
    if role and (role not in ROLES or entry["kind"] not in ROLES[role] or years is not None):
        raise SourceDeclarationError(
            f"{where}: role {role!r} is not allowed here; roles are "
            + "; ".join(f"{r} (kind {' or '.join(kinds)})" for r, kinds in ROLES.items())
            + ", on an attribute without 'years'")
    common = {key: entry[key] for key in ("kind", "pattern", "minimum", "maximum", "codes", "role")
              if key in entry}
    common["allowed"] = tuple(str(value) for value in entry.get("allowed", ()))
    return [Attribute(name=entry["name"].format(year=year), description=entry["description"].format(year=year),
                      **common)
            for year in (years or [None])]


def parse_declaration(data: dict[str, Any], where: str, payload_version: str) -> SourceSpec:
    """One source from the parsed content of its file."""
    if data.get("format") != FORMAT:
        raise SourceDeclarationError(f"{where}: 'format' must be {FORMAT!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise SourceDeclarationError(f"{where}: 'name' must be a lower-case word such as 'statbel'")
    payload: list[Attribute] = []
    for number, entry in enumerate(data.get("payload", []), start=1):
        payload.extend(_attributes(entry, f"{where}, payload entry {number}"))
    names = [attribute.name for attribute in payload]
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise SourceDeclarationError(f"{where}: payload names declared twice: {', '.join(doubles)}")
    for role in ROLES:
        playing = [attribute.name for attribute in payload if attribute.role == role]
        if len(playing) > 1:
            raise SourceDeclarationError(f"{where}: role {role!r} is given to {', '.join(playing)}; "
                                         "give it to one attribute")
    identifying = sorted(IDENTIFIER_NAMES.intersection(names))
    if identifying:
        raise SourceDeclarationError(
            f"{where}: {', '.join(identifying)} would be an identifier in the payload; identifiers are "
            "encoded by 'linkage encode', never declared as payload")
    return SourceSpec(name, str(data.get("description", "")), tuple(payload), payload_version)


def fingerprint(contents: list[dict[str, Any]]) -> str:
    """A content fingerprint of parsed declarations (comments and layout do not count)."""
    canonical = json.dumps(sorted(contents, key=lambda d: str(d.get("name"))), sort_keys=True)
    return "src-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceDeclarationError(f"source declaration {path}: cannot read it ({exc})") from None


def load_folder(folder: Path) -> dict[str, SourceSpec]:
    """Every ``*.toml`` declaration of a folder, versioned together by their fingerprint.

    Files are read in name order, so names such as ``1-ksz.toml`` fix the order in which
    sources are listed."""
    files = sorted(folder.glob("*.toml"))
    contents = [_read(path) for path in files]
    version = fingerprint(contents)
    specs = [parse_declaration(data, str(path), version) for path, data in zip(files, contents)]
    return {spec.name: spec for spec in specs}


def bundled_folder() -> Path:
    return Path(str(resources.files("linkage.sources") / "data"))



def load_sources() -> tuple[dict[str, SourceSpec], str]:
    """The bundled sources plus the operator's (``LINKAGE_SOURCES_DIR``), and the bundled fingerprint."""
    sources = load_folder(bundled_folder())
    bundled_version = next(iter(sources.values())).payload_version
    extra_dir = os.environ.get(ENVIRONMENT)
    if extra_dir:
        folder = Path(extra_dir)
        if not folder.is_dir():
            raise SourceDeclarationError(f"{ENVIRONMENT}={extra_dir} is not a folder of source declarations")
        for name, spec in load_folder(folder).items():
            if name in sources:
                raise SourceDeclarationError(
                    f"{folder}: source {name!r} is already a bundled source; choose another name")
            sources[name] = spec
    return sources, bundled_version
