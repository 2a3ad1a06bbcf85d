"""Loading a clkhash v3 linkage schema, with guards against clkhash's known pitfalls.

- clkhash reads XOR folding only from the undocumented key ``clkConfig.xor_folds`` and
  silently ignores the documented ``xorFolds``: either spelling is accepted here and
  applied (two different values are refused);
- the CLK length must be a whole number of bytes, and ``blakeHash`` needs a power of two;
- only version 3 is accepted, so every provider states the same thing in the same way;
- ``clkConfig.blip`` (randomised bit flips, :mod:`linkage.encoding.blip`) and
  ``clkConfig.diffusion`` (a keyed XOR layer, :mod:`linkage.encoding.diffusion`) are ours, and
  checked strictly, since clkhash ignores keys it does not know.

The schema fingerprint is a SHA-256 over the canonical JSON of the schema (sorted keys, no
whitespace, XOR folding spelt ``xorFolds`` and left out when zero): two spellings of the
same configuration get the same fingerprint.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import clkhash.schema
from clkhash.field_formats import Ignore

from linkage.encoding.blip import MAX_PROBABILITY
from linkage.encoding.diffusion import MAX_INPUTS, MIN_INPUTS
from linkage.errors import LinkageError
from linkage.insz import TOKEN_SCHEME
from linkage.normalise import NORMALISATION_VERSION

BUNDLED_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


class SchemaError(LinkageError, ValueError):
    """The linkage schema cannot be used; the message says what to change."""


@dataclass(frozen=True)
class LinkageSchema:
    document: dict[str, Any]
    """The canonical v3 document (what the fingerprint is computed over)."""
    fingerprint: str
    """``sha256:`` and the hex digest of the canonical JSON."""

    @property
    def clk_bits(self) -> int:
        return int(self.document["clkConfig"]["l"])

    @property
    def xor_folds(self) -> int:
        return int(self.document["clkConfig"].get("xorFolds", 0))

    @property
    def flip_probability(self) -> float:
        """BLIP's probability of flipping each bit of a finished CLK; 0 without BLIP."""
        return float(self.document["clkConfig"].get("blip", {}).get("flipProbability", 0.0))

    @property
    def diffusion_inputs(self) -> int:
        """How many CLK bits the diffusion layer XORs into each output bit; 0 without it."""
        return int(self.document["clkConfig"].get("diffusion", {}).get("inputs", 0))

    def without_blip(self) -> "LinkageSchema":
        """The same schema without bit flips (what an attacker uses to encode its own list)."""
        document = copy.deepcopy(self.document)
        document["clkConfig"].pop("blip", None)
        return schema_from_dict(document)

    def clkhash_schema(self) -> clkhash.schema.Schema:
        """A fresh clkhash ``Schema`` with XOR folding really applied."""
        document = copy.deepcopy(self.document)
        document["clkConfig"].pop("xorFolds", None)
        schema = clkhash.schema.from_json_dict(document)
        schema.xor_folds = self.xor_folds
        return schema

    def configuration_fingerprint(self, key_check: str, shared_name_key: bool) -> str:
        """The extract fingerprint: schema, normalisation rules, token scheme, secret check and,
        where several features hold names, that they share one key (:mod:`.keys`).

        Two extracts link only when this is equal; a provider with other normalisation rules
        or another secret gets another fingerprint instead of silently poor links. Schemas with
        one name feature keep the fingerprint they had before names shared a key.
        """
        parts = {
            "schema": self.fingerprint,
            "normalisation": NORMALISATION_VERSION,
            "token": TOKEN_SCHEME,
            "key_check": key_check,
        }
        if shared_name_key:
            parts["name_key"] = "shared"
        canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def resolve_schema_path(name: str | Path) -> Path:
    """A schema file, or the name of a bundled schema such as ``belgian-v2``."""
    path = Path(name)
    if path.exists():
        return path
    bundled = BUNDLED_SCHEMAS / f"{name}.json"
    if not path.suffix and bundled.exists():
        return bundled
    known = ", ".join(sorted(p.stem for p in BUNDLED_SCHEMAS.glob("*.json")))
    raise SchemaError(f"schema {str(name)!r} not found: give a file or a bundled schema ({known})")


def load_schema(name: str | Path) -> LinkageSchema:
    """Read and check a schema file (or a bundled schema name)."""
    path = resolve_schema_path(name)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaError(f"cannot read schema {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"schema {path} is not valid JSON ({exc}); fix the file") from None
    return schema_from_dict(document, origin=str(path))


def schema_from_dict(document: Any, origin: str = "schema") -> LinkageSchema:
    """Check a parsed schema document and return its canonical form."""
    if not isinstance(document, dict):
        raise SchemaError(f"{origin}: the top level must be a JSON object (a clkhash v3 linkage schema)")
    if document.get("version") != 3:
        raise SchemaError(
            f"{origin}: version is {document.get('version')!r}; only clkhash linkage schema "
            "version 3 is accepted (convert older schemas with clkhash's convert_to_latest_version)"
        )
    canonical = copy.deepcopy(document)
    clk_config = canonical.get("clkConfig")
    if isinstance(clk_config, dict):
        clk_config["xorFolds"] = _xor_folds(clk_config, origin)
        clk_config.pop("xor_folds", None)
    try:
        parsed = clkhash.schema.from_json_dict(copy.deepcopy(canonical))
    except clkhash.schema.SchemaError as exc:
        raise SchemaError(f"{origin}: {_describe(exc)}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise SchemaError(f"{origin}: not a usable clkhash v3 schema ({type(exc).__name__}: {exc})") from None
    folds = canonical["clkConfig"].pop("xorFolds")
    if folds:
        canonical["clkConfig"]["xorFolds"] = folds
    _check_lengths(parsed, folds, origin)
    _check_blip(canonical["clkConfig"], origin)
    _check_diffusion(canonical["clkConfig"], origin)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return LinkageSchema(canonical, "sha256:" + hashlib.sha256(text.encode()).hexdigest())


def _check_option(clk_config: dict, origin: str, option: str, field: str, valid: Callable[[Any], bool],
                  expected: str) -> None:
    """An option of ours in ``clkConfig`` (clkhash would ignore a misspelling silently): absent,
    or exactly ``{field: value}`` with a value that is a number (never a bool) ``valid`` accepts."""
    if option not in clk_config:
        return
    setting = clk_config[option]
    value = setting.get(field) if isinstance(setting, dict) else None
    if (not isinstance(setting, dict) or set(setting) != {field} or isinstance(value, bool)
            or not isinstance(value, (int, float)) or not valid(value)):
        raise SchemaError(f"{origin}: clkConfig.{option} must be {expected}")


def _check_blip(clk_config: dict, origin: str) -> None:
    """``clkConfig.blip``: exactly ``{"flipProbability": p}`` with 0 < p < 0.5."""
    _check_option(clk_config, origin, "blip", "flipProbability", lambda p: 0 < p < MAX_PROBABILITY,
                  f'{{"flipProbability": p}} with 0 < p < {MAX_PROBABILITY} '
                  "(the share of each CLK's bits flipped, for example 0.1)")


def _check_diffusion(clk_config: dict, origin: str) -> None:
    """``clkConfig.diffusion``: exactly ``{"inputs": t}`` with a whole t in 2..16."""
    _check_option(clk_config, origin, "diffusion", "inputs",
                  lambda t: isinstance(t, int) and MIN_INPUTS <= t <= MAX_INPUTS,
                  f'{{"inputs": t}} with a whole t from {MIN_INPUTS} to {MAX_INPUTS} '
                  "(how many CLK bits are XORed into each output bit, for example 3)")


def _xor_folds(clk_config: dict, origin: str) -> int:
    spellings = {key: clk_config[key] for key in ("xorFolds", "xor_folds") if key in clk_config}
    values = set()
    for key, value in spellings.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SchemaError(f"{origin}: clkConfig.{key} must be a whole number of at least 0")
        values.add(value)
    if len(values) > 1:
        raise SchemaError(
            f"{origin}: clkConfig gives xorFolds={spellings['xorFolds']} and "
            f"xor_folds={spellings['xor_folds']}; keep one of them"
        )
    return values.pop() if values else 0


def _check_lengths(schema: clkhash.schema.Schema, folds: int, origin: str) -> None:
    if schema.l % 8:
        raise SchemaError(f"{origin}: clkConfig.l is {schema.l} bits; it must be a multiple of 8")
    hashed = schema.l * 2**folds
    uses_blake = any(
        not isinstance(field, Ignore)
        and field.hashing_properties is not None
        and field.hashing_properties.hash_type == "blakeHash"
        for field in schema.fields
    )
    if uses_blake and hashed & (hashed - 1):
        raise SchemaError(
            f"{origin}: blakeHash needs l × 2^xorFolds to be a power of two, "
            f"here {schema.l} × 2^{folds} = {hashed}; use for example l = 1024"
        )
    identifiers = [field.identifier for field in schema.fields]
    duplicates = sorted({name for name in identifiers if identifiers.count(name) > 1})
    if duplicates:
        raise SchemaError(f"{origin}: features named more than once: {', '.join(duplicates)}")


def _describe(exc: clkhash.schema.SchemaError) -> str:
    cause = exc.__cause__
    if cause is not None and hasattr(cause, "message"):
        where = "/".join(str(part) for part in getattr(cause, "absolute_path", []))
        return f"not a valid clkhash v3 schema: {cause.message}" + (f" (at {where})" if where else "")
    details = "; ".join(
        f"feature {error.field_spec_index}: {error}" for error in getattr(exc, "errors", [])
    )
    return f"{exc.msg}: {details}" if details else exc.msg
