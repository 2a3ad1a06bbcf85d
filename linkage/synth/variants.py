"""How a register's copy of a name or date differs from another's.

Each function takes the true value and a ``random.Random`` and returns the value one source
holds: a typing error, another transliteration of the same name (Mohamed/Mohammed,
Yılmaz/Yilmaz, Oleksandr/Aleksandr, Gebremedhin/Ghebremedhin), particles written another way
(Van den Broeck/Vandenbroeck, El Amrani/El-Amrani/Elamrani, D'Hondt/Dhondt), diacritics
dropped. They never raise and always return a non-empty string for a non-empty input.
"""

from __future__ import annotations

import random
import re
import unicodedata

LETTERS = "abcdefghijklmnopqrstuvwxyz"

_EQUIVALENT_GIVEN = [
    ("Mohamed", "Mohammed", "Muhammad", "Mohammad", "Mohamad", "Mouhamed", "Mohamet"),
    ("Ahmed", "Ahmad", "Ahmet"), ("Youssef", "Yousef", "Youssouf", "Yusuf", "Joessef"),
    ("Mustapha", "Mustafa", "Moustafa", "Mostafa"), ("Abdelkader", "Abd El Kader", "Abdulkader"),
    ("Hassan", "Hasan"), ("Hussein", "Hossein", "Houssein", "Husein", "Hussain"),
    ("Khalid", "Khaled"), ("Said", "Saïd", "Saeed", "Sayed"), ("Rachid", "Rashid", "Rachied"),
    ("Fatima", "Fatma", "Fatema", "Fatimah"), ("Aicha", "Aïcha", "Aisha", "Aysha", "Aïsha"),
    ("Khadija", "Khadidja", "Khadijah", "Hadija"), ("Omar", "Umar", "Oumar"),
    ("Nordin", "Noureddine", "Nourdin", "Nour-Eddine"), ("Abdullah", "Abdallah", "Abdellah"),
    ("Ibrahim", "Brahim", "Ebrahim"), ("Meryem", "Maryam", "Mariam", "Meriem"),
    ("Ilias", "Ilyas", "Elias"), ("Zakaria", "Zakariya", "Zakariae"),
    ("Soufiane", "Sofian", "Soufyan", "Sufyan"), ("Ayoub", "Ayub"), ("Hamza", "Hamsa"),
    ("Zeinab", "Zainab", "Zineb", "Zaynab"), ("Yasmina", "Yasmine", "Jasmina"),
    ("Mehmet", "Mehmed"), ("Hüseyin", "Huseyin", "Hussein"), ("Oleksandr", "Olexandr", "Aleksandr", "Alexandre"),
    ("Yohannes", "Johannes", "Yohanes"), ("Tesfay", "Tesfaye", "Tesfai"),
]
EQUIVALENT_GIVEN = {name: group for group in _EQUIVALENT_GIVEN for name in group}

RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "arabic": (
        ("ou", "u"), ("(?<![oe])u", "ou"), ("ou", "oe"), ("ch", "sh"), ("sh", "ch"), ("kh", "h"),
        ("dj", "j"), ("j", "dj"), ("ie", "i"), ("aa", "a"), ("mm", "m"), ("ss", "s"),
        ("q", "k"), ("ai", "ay"), ("ay", "ai"), ("ei", "ai"), ("Abdel", "Abd El"),
        ("Abd El", "Abdel"), ("Abdul", "Abdel"), ("Abdel", "Abdul"), ("ee", "i"), ("i", "ee"),
        ("y", "i"),
    ),
    "turkish": (
        ("ı", "i"), ("ş", "s"), ("ş", "sh"), ("ğ", ""), ("ğ", "g"), ("ç", "c"), ("ç", "ch"),
        ("ö", "o"), ("ö", "oe"), ("ü", "u"), ("ü", "ue"), ("İ", "I"), ("c", "dj"),
    ),
    "cyrillic": (
        ("kh", "h"), ("zh", "j"), ("sh", "ch"), ("ch", "tch"), ("shch", "chtch"), ("yu", "iu"),
        ("yu", "ju"), ("ya", "ia"), ("ya", "ja"), ("iy\\b", "i"), ("yy\\b", "y"), ("y", "j"),
        ("ks", "x"), ("ts", "tz"), ("ov\\b", "off"), ("ev\\b", "eff"), ("h", "g"), ("g", "h"),
        ("ye", "e"), ("(?<![oe])u", "ou"),
    ),
    "horn": (
        ("Gebre", "Ghebre"), ("Ghebre", "Gebre"), ("ay\\b", "aye"), ("aye\\b", "ay"),
        ("\\bY", "J"), ("Berhane", "Berhe"), ("Tekle", "Teklu"), ("Wolde", "Wolde "),
        ("mariam", "mariyam"), ("e\\b", "ie"), ("ss", "s"),
    ),
    "slavic": (
        ("ł", "l"), ("sz", "sh"), ("w", "v"), ("ska\\b", "ski"), ("ć", "c"), ("ć", "ch"),
        ("č", "ch"), ("š", "sh"), ("ž", "z"), ("ž", "zh"), ("đ", "dj"), ("dž", "dj"),
        ("ë", "e"), ("ç", "c"), ("xh", "dj"), ("cz", "tch"),
    ),
    "romanian": (
        ("ş", "ș"), ("ș", "ş"), ("ţ", "ț"), ("ț", "ţ"), ("ş", "s"), ("ș", "s"), ("ţ", "t"),
        ("ț", "t"), ("ă", "a"), ("â", "a"), ("î", "i"),
    ),
    "african": (
        ("Tsh", "Ch"), ("Tsh", "Tch"), ("ou", "u"), ("(?<![oe])u", "ou"), ("-", " "), ("Nd", "N'D"),
        ("é", "e"), ("y", "i"), ("w", "ou"),
    ),
    "east_asian": (
        (" ", ""), (" ", "-"), ("Nguyen", "Nguyễn"), ("Tran", "Trần"), ("Pham", "Phạm"),
        ("Xiaoming", "Xiao Ming"), ("Xiaoli", "Xiao Li"), ("Dela Cruz", "Delacruz"),
    ),
    "latin": (
        ("ck", "k"), ("k", "ck"), ("ae", "aa"), ("y", "ij"), ("ij", "y"), ("dt", "d"),
        ("gh", "g"), ("ph", "f"), ("th", "t"), ("ss", "s"), ("tt", "t"), ("ll", "l"),
    ),
}
_COMPILED = {
    family: tuple((re.compile(pattern, re.IGNORECASE), repl) for pattern, repl in rules)
    for family, rules in RULES.items()
}

PARTICLES = {
    "van", "vande", "vanden", "vander", "de", "den", "der", "het", "ter", "ten", "te", "le",
    "la", "du", "des", "da", "di", "del", "della", "dos", "el", "al", "ben", "ait", "aït",
    "abd", "ould", "bou", "op", "in", "'t",
}
_JOINED_PREFIX = re.compile(r"^(van ?den|van ?der|van ?de|van|el|al|ben|ait)(?=[a-z]{3})", re.IGNORECASE)
_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i",
                          "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"})


def _match_case(original: str, replacement: str) -> str:
    if original[:1].isupper() and replacement:
        return replacement[0].upper() + replacement[1:]
    return replacement


def typo(value: str, r: random.Random) -> str:
    """One keyboard error: insert, delete, substitute or transpose a letter."""
    positions = [i for i, ch in enumerate(value) if ch.isalpha()]
    if not positions:
        return value
    i = r.choice(positions)
    op = r.randrange(4)
    if op == 0:
        return value[:i] + r.choice(LETTERS) + value[i:]
    if op == 1 and len(positions) > 2:
        return value[:i] + value[i + 1:]
    if op == 3 and i + 1 < len(value) and value[i + 1].isalpha() and value[i + 1] != value[i]:
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    replacement = r.choice(LETTERS.replace(value[i].lower(), ""))
    return value[:i] + _match_case(value[i], replacement) + value[i + 1:]


def drop_diacritics(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def transliterate(value: str, family: str, r: random.Random) -> str:
    """Another spelling of a name as a register in another language would write it."""
    tokens = value.split(" ")
    for k, token in enumerate(tokens):
        group = EQUIVALENT_GIVEN.get(token)
        if group:
            tokens[k] = r.choice([g for g in group if g != token])
            return " ".join(tokens)
    candidates = [(rx, repl, m) for rx, repl in _COMPILED.get(family, ())
                  for m in rx.finditer(value)]
    if not candidates:
        return value
    rx, repl, m = r.choice(candidates)
    out = value[: m.start()] + _match_case(m.group(0), repl) + value[m.end():]
    return out if out.strip() else value


def restyle_particles(value: str, r: random.Random) -> str:
    """Particles written another way: joined, split, hyphenated or in lower case."""
    tokens = value.split()
    n = 0
    while n < len(tokens) - 1 and tokens[n].lower().rstrip("'") in PARTICLES:
        n += 1
    if n == 0:
        head, _, tail = value.partition("'")
        if head.strip() and tail.strip():  # D'Hondt -> Dhondt / D Hondt / D'hondt
            style = r.randrange(3)
            return [head + tail.lower(), head + " " + tail, head + "'" + tail.lower()][style]
        joined = _JOINED_PREFIX.match(value)
        if joined and len(tokens) == 1:  # Vandenbroeck -> Van den Broeck
            prefix = joined.group(0)
            words = re.findall(r"van|den|der|de|el|al|ben|ait", prefix, re.IGNORECASE)
            rest = value[len(prefix):]
            return " ".join([words[0].capitalize(), *(w.lower() for w in words[1:]), rest.capitalize()])
        return value
    particles, rest = tokens[:n], " ".join(tokens[n:])
    style = r.randrange(4)
    if style == 0:    # joined: Vandenbroeck, Elamrani
        return "".join(particles).capitalize() + rest.lower()
    if style == 1:    # hyphenated: El-Amrani, Van-den-Broeck
        return "-".join([*particles, rest])
    if style == 2:    # every word capitalised: Van Den Broeck
        return " ".join([*(p.capitalize() for p in particles), rest])
    return " ".join([*(p.lower() for p in particles), rest])  # van den Broeck


def drop_surname_part(value: str, r: random.Random) -> str:
    """Keep one part of a two-part surname (the maternal Spanish surname dropped, the
    grandfather's name of an Eritrean patronym dropped or kept alone)."""
    tokens = value.split()
    if len(tokens) < 2 or tokens[0].lower() in PARTICLES:
        return value
    return tokens[0] if r.random() < 0.7 else tokens[-1]


def drop_particles(value: str) -> str:
    """The surname without its leading particles (Van den Broeck -> Broeck, El Amrani ->
    Amrani), as a register that files names by their main word writes it."""
    tokens = value.split()
    n = 0
    while n < len(tokens) - 1 and tokens[n].lower().rstrip("'") in PARTICLES:
        n += 1
    if n:
        return " ".join(tokens[n:])
    head, apostrophe, tail = value.partition("'")
    return tail if apostrophe and len(head) <= 2 and tail.strip() else value


def double_surname(value: str, other: str, r: random.Random) -> str:
    """A second surname added after the first (a spouse's name, the mother's surname), with a
    space or a hyphen."""
    if not other or other == value:
        return value
    return value + r.choice((" ", "-")) + other


def first_given(value: str) -> str:
    return value.split(" ", 1)[0]
