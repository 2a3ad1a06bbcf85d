"""Calibration report of a generated directory: the population figures the generator aims
at (domain research section 5) and the corruption each source shows against the truth.

    python -m linkage.synth.calibration OUTDIR
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from linkage.synth.countries import BY_NIS

SOURCES = ("ksz", "vdab", "integration", "education")


def _rows(path: Path):
    with open(path, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else float("nan")


def _foreign(p: dict) -> bool:
    return any(p[k] not in ("", "150") for k in ("nat_current", "nat_first", "nat_first_father", "nat_first_mother"))


def _compact(insz: str) -> str:
    return insz.replace(".", "").replace("-", "")


def report(outdir: Path) -> dict:
    persons = {p["person_id"]: p for p in _rows(outdir / "persons.csv")}
    people = list(persons.values())
    age = {i: 2024 - int(p["birth_date"][:4]) for i, p in persons.items()}
    foreign = [p for p in people if p["origin_country"] != "150"]
    working_age = [p for p in people if 20 <= age[p["person_id"]] <= 64]

    def employment(select) -> float:
        return _share(p["ksz_sep_2024"].startswith("1") for p in working_age if select(p))

    origins = Counter(p["origin_country"] for p in foreign)
    figures = {
        "persons": len(people),
        "foreign_origin_4_criteria": _share(map(_foreign, people)),
        "foreign_origin_age_0_5": _share(_foreign(p) for p in people if age[p["person_id"]] < 6),
        "foreign_origin_age_80_plus": _share(_foreign(p) for p in people if age[p["person_id"]] >= 80),
        "non_belgian": _share(p["nat_current"] != "150" for p in people),
        "belgian_foreign_first_nationality": _share(
            p["nat_current"] == "150" and p["nat_first"] != "150" for p in people),
        "belgian_born_belgian_foreign_parent": _share(
            p["nat_current"] == "150" and p["nat_first"] == "150" and _foreign(p) for p in people),
        "born_in_belgium_of_foreign_origin": _share(p["generation"] == "second" for p in foreign),
        "top_origins_percent_of_foreign": {
            BY_NIS[code].iso2: round(100 * count / len(foreign), 1) for code, count in origins.most_common(10)},
        "employment_20_64_belgian_origin": employment(lambda p: p["origin_country"] == "150"),
        "employment_20_64_eu_origin": employment(
            lambda p: p["origin_country"] != "150" and BY_NIS[p["origin_country"]].eu),
        "employment_20_64_non_eu_origin": employment(
            lambda p: p["origin_country"] != "150" and not BY_NIS[p["origin_country"]].eu),
        "employment_20_64_maghreb_origin": employment(lambda p: p["origin_country"] in ("354", "351", "357")),
    }
    pupils = [r for r in _rows(outdir / "education.csv") if r["school_year"] == "2024" and r["track"] != "okan"]
    for level in ("primary", "secondary"):
        figures[f"school_delay_{level}"] = _share(int(r["delay_years"]) > 0 for r in pupils if r["level"] == level)
    figures["early_leavers"] = _share(
        r["early_leaver"] == "1" for r in _rows(outdir / "education.csv") if r["early_leaver"])

    person_of = {(t["source"], t["record_id"]): t["person_id"] for t in _rows(outdir / "truth.csv")}
    for source in SOURCES:
        joined = [(r, persons[person_of[(source, r["record_id"])]]) for r in _rows(outdir / f"{source}.csv")]
        figures[f"{source}_records"] = len(joined)
        figures[f"{source}_insz_missing"] = _share(r["insz"] == "" for r, _ in joined)
        figures[f"{source}_insz_not_current"] = _share(
            r["insz"] != "" and _compact(r["insz"]) != p["insz"] for r, p in joined)
        figures[f"{source}_surname_differs"] = _share(r["surname"].lower() != p["surname"].lower() for r, p in joined)
        figures[f"{source}_given_names_differ"] = _share(r["given_names"] != p["given_names"] for r, p in joined)
        figures[f"{source}_postcode_differs"] = _share(r["postcode"] != p["postcode"] for r, p in joined)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / "persons.csv").is_file():
        print("usage: python -m linkage.synth.calibration OUTDIR (a directory written by linkage synth)",
              file=sys.stderr)
        return 2
    for name, value in report(Path(args[0])).items():
        print(f"{name:40} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
