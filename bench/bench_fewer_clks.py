"""Send fewer CLKs? What linkage keeps when providers send a CLK only for records without a
valid national number (issue 24, step 3).

    .venv/bin/python bench/bench_fewer_clks.py                 # 20,000 persons
    BENCH_SIZE=full .venv/bin/python bench/bench_fewer_clks.py  # 200,000 persons

The held-out population of ``bench_heldout`` (its seed and rates), encoded with
``belgian-v1`` and linked as today (every record sends its CLK). The options are then read
off the true pairs of each source with KSZ and the tokens the providers computed: a record
that sends no CLK can only link by an equal token, so

- ``register keeps`` (KSZ sends every CLK, the other sources only for records without a
  token): a true pair stays linkable when the tokens are equal, or when the other record
  has no token (its CLK meets the register's);
- ``none with token`` (every source sends CLKs only for records without one): when the
  tokens are equal, or when neither record has a token.

Printed per option: the share of CLKs the broker would hold, and per pair the recall it can
reach at best (all the linkable pairs found) with the recall gap between origin groups,
beside today's measured recall; and the true pairs whose valid numbers differ (a register
correction, or a BIS number later replaced by a national number) that only CLKs can link.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_heldout import HELDOUT, SEED, TARGET_F1  # noqa: E402
from pipeline import (  # noqa: E402
    MIN_GROUP, ROOT, SOURCES, encode, fresh_folder, match, recall_gap, score, synth, truth_and_origin,
)

from linkage.extract import read_extract  # noqa: E402

FULL = os.environ.get("BENCH_SIZE") == "full"
PERSONS = 200_000 if FULL else 20_000
OUT = ROOT / "bench-out" / "fewer-clks"


def tokens_by_person(path: Path, source: str, truth: dict) -> dict[str, bytes | None]:
    """person -> the token of the source's (first) record of that person."""
    extract = read_extract(path)
    found: dict[str, bytes | None] = {}
    for record_id, token in zip(extract.record_ids, extract.exact_tokens):
        found.setdefault(truth[(source, record_id)], token)
    return found


def linkable(ksz: bytes | None, other: bytes | None, option: str) -> bool:
    if ksz is not None and ksz == other:
        return True
    if option == "register keeps":
        return other is None
    return ksz is None and other is None


def main() -> None:
    print(f"bench_fewer_clks: {PERSONS:,} persons, held-out seed {SEED} "
          f"({'full' if FULL else 'BENCH_SIZE=full for 200,000'}), belgian-v1")
    secret = fresh_folder(OUT)
    synth(OUT, PERSONS, SEED, HELDOUT)
    truth, origin = truth_and_origin(OUT)
    encoded = {source: encode(OUT, source, "belgian-v1", secret)[0] for source in SOURCES}
    groups, _, _ = match(OUT, list(encoded.values()))
    today = {result.sources: result for result in score(groups, truth, origin)}
    tokens = {source: tokens_by_person(path, source, truth) for source, path in encoded.items()}
    records = {source: len(read_extract(path).record_ids) for source, path in encoded.items()}
    with_token = {source: sum(token is not None for token in read_extract(path).exact_tokens)
                  for source, path in encoded.items()}
    total = sum(records.values())
    held = {"today": total,
            "register keeps": records["ksz"] + sum(records[s] - with_token[s] for s in SOURCES if s != "ksz"),
            "none with token": sum(records[s] - with_token[s] for s in SOURCES)}
    for option, count in held.items():
        print(f"{option:<16} the broker holds {count:,} of {total:,} CLKs ({count / total:.1%})")
    for pair in TARGET_F1:
        other = pair[1]
        shared = [p for p in tokens[other] if p in tokens["ksz"]]
        kinds = Counter()
        for person in shared:
            a, b = tokens["ksz"][person], tokens[other][person]
            kinds["equal tokens" if a is not None and a == b else "no token in " + other if b is None
                  else "no token in ksz" if a is None else "valid numbers differ"] += 1
        measured = today[pair]
        gap, _, _ = recall_gap(measured)
        print(f"\n{'-'.join(pair)}: {len(shared):,} persons in both; " + ", ".join(f"{k} {v:,}" for k, v in kinds.items())
              + f"\n  today (measured): recall {measured.recall:.4f}, F1 {measured.f1:.4f}, gap {gap:.3f}")
        for option in ("register keeps", "none with token"):
            reach: dict[str, list[int]] = {}
            for person in shared:
                cell = reach.setdefault(origin.get(person) or "unknown", [0, 0])
                cell[0] += linkable(tokens["ksz"][person], tokens[other][person], option)
                cell[1] += 1
            found = sum(c[0] for c in reach.values())
            rates = {g: c[0] / c[1] for g, c in reach.items() if c[1] >= MIN_GROUP}
            spread = max(rates.values()) - min(rates.values()) if rates else 0.0
            low = min(rates, key=rates.get) if rates else "-"
            print(f"  {option:<16} recall at best {found / len(shared):.4f}, gap at best {spread:.3f} "
                  f"(lowest: {low} {rates.get(low, 0):.4f})")


if __name__ == "__main__":
    main()
