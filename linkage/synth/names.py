"""Name pools per origin and vectorised sampling of given names and surnames.

Belgian-origin names come from Faker's ``nl_BE`` and ``fr_BE`` lists, which carry the real
Statbel 2022 frequencies of the Flemish Region; other origins use Faker's locale lists where
they are in Latin script, Faker's Cyrillic lists romanised here, or the project's own lists
(``names_data``). Pools are read once and sampled with numpy, so a million names take
seconds and the result depends only on the random generator.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from linkage.synth import names_data as nd

FAMILY = {
    # name group -> spelling family (drives linkage.synth.variants)
    "maghreb": "arabic", "fr_DZ": "arabic", "mideast": "arabic", "afghan": "arabic",
    "persian": "arabic", "somali": "arabic", "south_asia": "arabic",
    "turkish": "turkish",
    "cyrillic_ru": "cyrillic", "cyrillic_ua": "cyrillic", "cyrillic_bg": "cyrillic",
    "caucasus": "cyrillic",
    "horn": "horn",
    "pl_PL": "slavic", "cs_CZ": "slavic", "sk_SK": "slavic", "bosnian": "slavic",
    "hu_HU": "slavic", "lt_LT": "slavic", "albanian": "slavic",
    "ro_RO": "romanian",
    "central_africa": "african", "west_africa": "african",
    "chinese": "east_asian", "southeast_asia": "east_asian",
}
"""Spelling family of each name group; groups not listed are plain Latin script."""

TRANSLITERATION_FACTOR = {
    "arabic": 1.0, "cyrillic": 1.0, "horn": 1.0, "turkish": 0.5, "african": 0.4,
    "east_asian": 0.4, "romanian": 0.2, "slavic": 0.15, "latin": 0.03,
}
"""How much more often than a plain Latin name a family's names are spelt differently by
another register (multiplies ``SourceNoise.transliteration``)."""

MUSLIM_MAJORITY = {"maghreb", "fr_DZ", "mideast", "afghan", "persian", "somali", "turkish", "south_asia"}


@dataclass(frozen=True)
class Pool:
    male: np.ndarray        # object arrays of names
    female: np.ndarray
    surnames: np.ndarray
    p_male: np.ndarray      # sampling probabilities
    p_female: np.ndarray
    p_surnames: np.ndarray
    given_count: tuple[float, float, float]   # P(1, 2, 3 given names)
    surname_parts: float    # P(a second surname part), e.g. Spanish maternal surname


def _faker(locale: str, attribute: str):
    module = importlib.import_module(f"faker.providers.person.{locale}")
    return getattr(module.Provider, attribute)


def _weights(values) -> tuple[np.ndarray, np.ndarray]:
    """Names with probabilities: real counts where Faker has them, else by rank (Zipf-like)."""
    if isinstance(values, dict):
        names = np.array(list(values), dtype=object)
        counts = np.array(list(values.values()), dtype=float)
    else:
        names = np.array(list(dict.fromkeys(values)), dtype=object)
        counts = 1.0 / np.arange(1, len(names) + 1) ** 0.7
    return names, counts / counts.sum()


def _romanise(name: str) -> str:
    out = "".join(nd.CYRILLIC_TO_LATIN.get(ch, ch) for ch in name.lower())
    return "-".join(part.capitalize() for part in out.split("-"))


_FEMININE_ENDINGS = {
    # name group -> (male ending, female ending), first match wins; "" matches any name
    "pl_PL": (("cki", "cka"), ("dzki", "dzka"), ("ski", "ska")),
    "cs_CZ": (("ý", "á"), ("a", "ová"), ("", "ová")),
    "sk_SK": (("ý", "á"), ("a", "ová"), ("", "ová")),
    "lt_LT": (("as", "ienė"), ("is", "ienė"), ("us", "uvienė")),
    "cyrillic_ru": (("ov", "ova"), ("ev", "eva"), ("in", "ina"), ("iy", "aya")),
    "cyrillic_bg": (("ov", "ova"), ("ev", "eva"), ("in", "ina")),
    "caucasus": (("ov", "ova"), ("ev", "eva")),
}


def _feminine(surname: str, endings: tuple[tuple[str, str], ...]) -> str:
    """The female form of a surname in languages that inflect surnames by sex."""
    for male, female in endings:
        if surname.endswith(male):
            return surname[: len(surname) - len(male)] + female
    return surname


_NON_EUROPEAN = set(
    nd.MAGHREB_MALE + nd.MAGHREB_FEMALE + nd.MAGHREB_SURNAMES + nd.MIDEAST_MALE
    + nd.MIDEAST_FEMALE + nd.MIDEAST_SURNAMES + nd.TURKISH_MALE_COMMON + nd.TURKISH_FEMALE_COMMON
    + nd.TURKISH_SURNAMES_EXTRA + nd.SOUTH_ASIA_SURNAMES + nd.AFGHAN_MALE + nd.SOMALI_MALE
    + ("Mohammed", "Mehmet", "Yilmaz", "Kaya", "Kaur", "Singh", "Ahmed", "Ali", "Hamza", "Omar")
)


def _belgian(locale: str):
    def clean(values: dict) -> dict:
        return {k: v for k, v in values.items() if k not in _NON_EUROPEAN}
    return (clean(_faker(locale, "first_names_male")), clean(_faker(locale, "first_names_female")),
            clean(_faker(locale, "last_names")))


def _sources(group: str):
    """(male, female, surnames) name lists of a group."""
    own = {
        "maghreb": (nd.MAGHREB_MALE, nd.MAGHREB_FEMALE, nd.MAGHREB_SURNAMES),
        "mideast": (nd.MIDEAST_MALE, nd.MIDEAST_FEMALE, nd.MIDEAST_SURNAMES),
        "afghan": (nd.AFGHAN_MALE, nd.AFGHAN_FEMALE, nd.AFGHAN_SURNAMES),
        "persian": (nd.PERSIAN_MALE, nd.PERSIAN_FEMALE, nd.PERSIAN_SURNAMES),
        "horn": (nd.HORN_MALE, nd.HORN_FEMALE, nd.HORN_MALE),
        "somali": (nd.SOMALI_MALE, nd.SOMALI_FEMALE, nd.SOMALI_SURNAMES),
        "central_africa": (nd.CENTRAL_AFRICA_MALE, nd.CENTRAL_AFRICA_FEMALE, nd.CENTRAL_AFRICA_SURNAMES),
        "west_africa": (nd.WEST_AFRICA_MALE, nd.WEST_AFRICA_FEMALE, nd.WEST_AFRICA_SURNAMES),
        "albanian": (nd.ALBANIAN_MALE, nd.ALBANIAN_FEMALE, nd.ALBANIAN_SURNAMES),
        "bosnian": (nd.BOSNIAN_MALE, nd.BOSNIAN_FEMALE, nd.BOSNIAN_SURNAMES),
        "caucasus": (nd.CAUCASUS_MALE, nd.CAUCASUS_FEMALE, nd.CAUCASUS_SURNAMES),
        "greek": (nd.GREEK_MALE, nd.GREEK_FEMALE, nd.GREEK_SURNAMES),
        "nordic": (nd.NORDIC_MALE, nd.NORDIC_FEMALE, nd.NORDIC_SURNAMES),
        "chinese": (nd.CHINESE_MALE, nd.CHINESE_FEMALE, nd.CHINESE_SURNAMES),
        "southeast_asia": (nd.SOUTHEAST_ASIA_MALE, nd.SOUTHEAST_ASIA_FEMALE, nd.SOUTHEAST_ASIA_SURNAMES),
        "south_asia": (nd.SOUTH_ASIA_MALE, nd.SOUTH_ASIA_FEMALE, nd.SOUTH_ASIA_SURNAMES),
        "intl_young": (nd.INTERNATIONAL_YOUNG_MALE, nd.INTERNATIONAL_YOUNG_FEMALE, ("-",)),
    }
    if group in own:
        return own[group]
    if group in ("nl_BE", "fr_BE"):
        return _belgian(group)
    if group == "turkish":
        tail_m = tuple(_faker("tr_TR", "first_names_male"))
        tail_f = tuple(_faker("tr_TR", "first_names_female"))
        # common names first so the rank weights make them frequent; Faker's long list is the tail
        return (nd.TURKISH_MALE_COMMON + tail_m, nd.TURKISH_FEMALE_COMMON + tail_f,
                tuple(_faker("tr_TR", "last_names")[:12]) + nd.TURKISH_SURNAMES_EXTRA
                + tuple(_faker("tr_TR", "last_names")[12:]))
    if group.startswith("cyrillic_"):
        locale = {"cyrillic_ru": "ru_RU", "cyrillic_ua": "uk_UA", "cyrillic_bg": "bg_BG"}[group]
        romanise = lambda values: tuple(_romanise(v) for v in values)  # noqa: E731
        return (romanise(_faker(locale, "first_names_male")),
                romanise(_faker(locale, "first_names_female")),
                romanise(_faker(locale, "last_names_male")))
    if group == "pl_PL":
        return (_faker("pl_PL", "first_names_male"), _faker("pl_PL", "first_names_female"),
                _faker("pl_PL", "male_last_names") + _faker("pl_PL", "unisex_last_names")[:400])
    if group == "lt_LT":
        firsts = _faker("lt_LT", "first_names")
        return (tuple(n for n in firsts if not n.endswith(("a", "ė"))),
                tuple(n for n in firsts if n.endswith(("a", "ė"))), _faker("lt_LT", "last_names"))
    surname_attr = "last_names_male" if group in ("sk_SK", "cs_CZ") else "last_names"
    return (_faker(group, "first_names_male"), _faker(group, "first_names_female"),
            _faker(group, surname_attr))


GIVEN_COUNT = {
    "nl_BE": (0.30, 0.45, 0.25), "fr_BE": (0.30, 0.45, 0.25), "es_ES": (0.5, 0.5, 0.0),
    "pt_PT": (0.4, 0.6, 0.0), "pt_BR": (0.5, 0.5, 0.0), "es_CO": (0.5, 0.5, 0.0),
    "central_africa": (0.4, 0.4, 0.2), "horn": (1.0, 0.0, 0.0), "somali": (1.0, 0.0, 0.0),
    "chinese": (1.0, 0.0, 0.0), "southeast_asia": (0.6, 0.4, 0.0),
    "maghreb": (0.8, 0.2, 0.0), "turkish": (0.75, 0.25, 0.0), "mideast": (0.85, 0.15, 0.0),
    "afghan": (0.85, 0.15, 0.0), "it_IT": (0.6, 0.35, 0.05), "fr_FR": (0.3, 0.45, 0.25),
    "nl_NL": (0.35, 0.4, 0.25), "de_DE": (0.5, 0.4, 0.1),
}
SURNAME_PARTS = {
    "es_ES": 0.85, "es_CO": 0.8, "pt_PT": 0.7, "pt_BR": 0.7, "central_africa": 0.5, "horn": 1.0,
}


@lru_cache(maxsize=None)
def pool(group: str) -> Pool:
    male, female, surnames = _sources(group)
    names_m, p_m = _weights(male)
    names_f, p_f = _weights(female)
    names_s, p_s = _weights(surnames)
    return Pool(names_m, names_f, names_s, p_m, p_f, p_s,
                GIVEN_COUNT.get(group, (0.65, 0.3, 0.05)), SURNAME_PARTS.get(group, 0.0))


def family(group: str) -> str:
    return FAMILY.get(group, "latin")


def sample_given(rng: np.random.Generator, group: str, female: np.ndarray) -> np.ndarray:
    """Given names (space-separated, one to three) for persons of one name group."""
    p = pool(group)
    n = len(female)
    count = rng.choice(3, size=n, p=p.given_count) + 1
    picks = []
    for names, probs, mask in ((p.male, p.p_male, ~female), (p.female, p.p_female, female)):
        chosen = np.empty((n, 3), dtype=object)
        chosen[mask] = names[rng.choice(len(names), size=(int(mask.sum()), 3), p=probs)]
        picks.append((mask, chosen))
    out = np.empty(n, dtype=object)
    for mask, chosen in picks:
        rows = np.flatnonzero(mask)
        out[rows] = [" ".join(dict.fromkeys(chosen[i, : count[i]])) for i in rows]
    return out


def sample_surnames(rng: np.random.Generator, group: str, female: np.ndarray,
                    double: np.ndarray | None = None) -> np.ndarray:
    """Surnames for persons of one name group; ``double`` forces a second part (Belgian
    double surnames since 2014)."""
    p = pool(group)
    n = len(female)
    first = p.surnames[rng.choice(len(p.surnames), size=n, p=p.p_surnames)]
    second = p.surnames[rng.choice(len(p.surnames), size=n, p=p.p_surnames)]
    two = rng.random(n) < p.surname_parts
    if double is not None:
        two |= double
    out = np.where(two & (first != second), first + " " + second, first)
    endings = _FEMININE_ENDINGS.get(group)
    if endings:
        out = np.array([_feminine(s, endings) if f else s for s, f in zip(out, female)], dtype=object)
    return out


@dataclass
class PersonNames:
    given: np.ndarray           # object: given names, space-separated
    surname: np.ndarray         # object
    given_family: np.ndarray    # object: spelling family of the given names
    surname_family: np.ndarray  # object: spelling family of the surname


def assign_names(rng: np.random.Generator, origin_group: np.ndarray, generation: np.ndarray,
                 female: np.ndarray, birth_year: np.ndarray, father_foreign: np.ndarray,
                 mother_foreign: np.ndarray) -> PersonNames:
    """Names by origin. ``origin_group`` is the name group of the origin country ("" for
    Belgian origin). Second-generation persons carry their father's surname (Belgian when
    only the mother is of foreign origin) and often Belgian or internationally popular given
    names; Belgian children born since 2014 sometimes carry a double surname."""
    n = len(origin_group)
    u = rng.random(n)
    belgian_group = np.where(rng.random(n) < 0.92, "nl_BE", "fr_BE").astype(object)
    foreign = origin_group != ""
    second = foreign & (generation == 2)
    surname_group = np.where(foreign & ~(second & ~father_foreign), origin_group, belgian_group)
    muslim = np.isin(origin_group, list(MUSLIM_MAJORITY)) & (birth_year >= 1990)
    mixed = second & (father_foreign != mother_foreign)
    second_given = np.select(
        [mixed & mother_foreign & ~father_foreign, muslim & (u < 0.6), muslim & (u < 0.9), u < 0.65],
        [np.where(u < 0.6, belgian_group, origin_group), origin_group, "intl_young", origin_group],
        default=belgian_group)
    given_group = np.where(second, second_given, np.where(foreign, origin_group, belgian_group))

    given = np.empty(n, dtype=object)
    surname = np.empty(n, dtype=object)
    for group in np.unique(given_group):
        rows = np.flatnonzero(given_group == group)
        given[rows] = sample_given(rng, group, female[rows])
    double = (~foreign) & (birth_year >= 2014) & (rng.random(n) < 0.10)
    for group in np.unique(surname_group):
        rows = np.flatnonzero(surname_group == group)
        surname[rows] = sample_surnames(rng, group, female[rows], double[rows])
    fam = np.vectorize(family, otypes=[object])
    return PersonNames(given, surname, fam(given_group), fam(surname_group))
