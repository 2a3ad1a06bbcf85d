"""Attacks on the encodings the broker holds, as a privacy researcher would run them.

    .venv/bin/python bench/bench_privacy.py                 # quick: 1,500 encoded records
    BENCH_SIZE=full .venv/bin/python bench/bench_privacy.py  # 6,000 encoded records

For every bundled schema and a plain clkhash schema (the one a provider writes from
clkhash's documentation), on ksz records of a synthetic population encoded under a secret
no attack uses, and an attacker's list of names and birth dates holding 100 % or 50 % of
the encoded persons plus others:

- pattern mining (``privacy_attacks.pattern_mining``): names (given names + surname)
  rebuilt exactly, share of the encoded records;
- graph matching (``privacy_attacks.graph_matching``), seeded by pattern mining, by node
  features alone, and by 25 persons an insider can point at anyway: share of the encoded
  persons in the list re-identified (leaving out those 25);
- key-less attribute inference (``privacy_attacks.inference``): best folded AUC for sex,
  birth year (before the median) and origin (Moroccan against Belgian).

Targets for the recommended schema (issue 24): pattern mining <= 1 % of names, graph
matching <= 5 % re-identified at 50 % overlap, origin AUC <= 0.60.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import PROVIDER_SCHEMA  # noqa: E402
from privacy_attacks import graph_matching, inference, pattern_mining, scenario  # noqa: E402

from linkage.encoding.schema import BUNDLED_SCHEMAS  # noqa: E402

FULL = os.environ.get("BENCH_SIZE") == "full"
RECORDS = 6_000 if FULL else 1_500
SEED = 20261206
OVERLAPS = (1.0, 0.5)
KNOWN_PAIRS = 25
"""Persons an insider attacker can point at in the encodings anyway (graph-matching seeds)."""


def schemas(folder: Path) -> list[tuple[str, str]]:
    """(label, schema name or file) of every bundled schema and the plain clkhash one."""
    plain = folder / "plain-clkhash.json"
    plain.write_text(json.dumps(PROVIDER_SCHEMA))
    return [(path.stem, path.stem) for path in sorted(BUNDLED_SCHEMAS.glob("*.json"))] + [("plain clkhash", str(plain))]


def run(label: str, schema: str, overlap: float) -> dict[str, float]:
    started = time.perf_counter()
    case = scenario.build(schema, RECORDS, overlap, SEED)
    mined = pattern_mining.attack(case.victim_bits, case.attacker, case.victim)
    truth = (case.victim.person, case.attacker.person)
    by_names = graph_matching.attack(case.victim_bits, case.attacker_bits,
                                     graph_matching.name_seeds(mined.guesses, case.attacker.name))
    by_features = graph_matching.attack_best(case.victim_bits, case.attacker_bits,
                                             graph_matching.feature_seeds(case.victim_bits, case.attacker_bits))
    known = graph_matching.known_pairs(*truth, KNOWN_PAIRS, SEED)
    by_known = graph_matching.attack(case.victim_bits, case.attacker_bits, known)
    figures = {
        "names rebuilt": mined.rebuilt(case.victim.name),
        "graph (pattern-mining seeds)": by_names.reidentified(*truth),
        "graph (node-feature seeds)": by_features.reidentified(*truth),
        f"graph ({KNOWN_PAIRS} known pairs)": by_known.reidentified(*truth, frozenset(i for i, _ in known)),
    }
    if overlap == OVERLAPS[0]:
        figures.update({f"AUC {name}": value for name, value in inference.infer(case.victim_bits, case.labels).items()})
    print(f"  {label:<14} {overlap:>4.0%} overlap: "
          + ", ".join(f"{key} {value:.3f}" if key.startswith("AUC") else f"{key} {value:.1%}"
                      for key, value in figures.items())
          + f"  ({by_names.seeds} and {by_features.seeds} seeds, {time.perf_counter() - started:.0f} s)", flush=True)
    return figures


def main() -> None:
    print(f"bench_privacy: {RECORDS:,} encoded ksz records, seed {SEED} "
          f"({'full' if FULL else 'quick; BENCH_SIZE=full for 6,000'}); attacks never use the victim's secret")
    with tempfile.TemporaryDirectory(prefix="bench-privacy-") as folder:
        for label, schema in schemas(Path(folder)):
            for overlap in OVERLAPS:
                run(label, schema, overlap)


if __name__ == "__main__":
    main()
