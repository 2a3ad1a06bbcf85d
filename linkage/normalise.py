"""Identifier normalisation, identical at every provider.

Every provider runs exactly these rules before hashing, so that ``Van den Broeck`` at KSZ
and ``VANDENBROECK`` at VDAB give the same encoding. Any change to a rule changes
:data:`NORMALISATION_VERSION`, which is part of every extract's fingerprint: extracts made
under different rules can then never be linked by mistake.

Rules (version 4):

- text: Unicode NFKC, case folding, letters without a decomposition mapped by a fixed table
  (``ł``→``l``, ``ø``→``o``, ``ı``→``i``, ``æ``→``ae``, ``đ``→``d`` …), then every
  combining mark (accent, cedilla, ogonek …) removed;
- names: apostrophes removed (``D'Hondt`` → ``dhondt``), every other non-letter is a
  separator; separators collapse to one space; name particles are joined to the word that
  follows (``Van den Broeck`` → ``vandenbroeck``, ``El-Amrani`` → ``elamrani``); every
  word is then folded to one spelling of its sound (:func:`fold_spelling`:
  ``Mohammed``/``Mohamed`` → ``mohamed``, ``Youssef``/``Yousef``/``Joessef`` → ``iusef``,
  ``Khalid`` → ``halid``), because registers transliterate the same name differently;
- birth dates: the usual Belgian forms, with day and month ``00`` meaning unknown (as in
  the national register) and normalised to a :class:`PartialDate`; 1 January counts as an
  unknown day and month, because registers write it for an unknown birth date; an
  impossible date (31 February, month 13, a future year) is kept for the parts it holds
  instead of refused, and a partial date (``MM/YYYY``, ``YYYY``) is read;
- sex: the codes and words registers use in Dutch, French, German and English (``M``/``V``,
  ``H``/``F``, ``M``/``W``, ``man``, ``vrouw``, ``female`` …) become ``m`` or ``f``.

Version 1 had neither the spelling fold nor the 1 January rule; version 2 refused
impossible and partial dates, and a full-date feature of a partial date was missing
(version 3 hashes its digits with ``00`` for the unknown parts). Version 3 still counted a
partial or impossible date missing in a clkhash ``date`` feature, which must parse it, and
so lost its year, and every date in a ``string`` feature whose pattern or length refused
``YYYY-MM-DD``, and every name under a pattern that refused lower case; version 4 hashes the
nearest real date in a ``date`` feature (:meth:`PartialDate.nearest_date`), writes a
``string`` feature's dates in the first form its schema accepts and its text in the first case
its pattern accepts (``linkage.encoding.features``).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from linkage.errors import LinkageError

NORMALISATION_VERSION = "4"

EARLIEST_BIRTH_YEAR = 1880
PLACEHOLDER_DAY_MONTH = (1, 1)
"""Day and month written for an unknown birth date; treated as unknown."""


class NormalisationError(LinkageError, ValueError):
    """A value cannot be normalised; the message says why, never what the value was."""


# Letters that Unicode does not decompose into a base letter plus a mark.
_TRANSLITERATION = str.maketrans({
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "k", "ə": "e", "ŋ": "n", "ƒ": "f",
})
_APOSTROPHES = str.maketrans("", "", "'’‘`´ʼʹ′ʻ")

SURNAME_PARTICLES = frozenset({
    # Dutch, Flemish, German
    "van", "von", "vom", "zu", "den", "der", "de", "des", "het", "t", "te", "ten", "ter",
    "op", "in", "vanden", "vander", "vande", "vd", "ver",
    # French, Italian, Spanish, Portuguese
    "d", "du", "la", "le", "les", "l", "di", "da", "dos", "das", "do", "del", "della", "dello",
    "degli", "dei", "y",
    # Arabic, Berber, Hebrew, Turkish usage in Belgian registers
    "el", "al", "ben", "bin", "ibn", "bou", "abu", "abou", "ait", "ou", "bent", "ould",
})
"""Particles joined to the following word in surnames. A particle that is the last word
stays a word of its own (the surname ``Le`` stays ``le``)."""

GIVEN_NAME_PARTICLES = frozenset({"abd", "abdel", "abdal", "abdul", "abdoul", "abu", "abou", "el", "al", "ul", "ud"})
"""Particles joined to the following word in given names (``Abdel Kader`` → ``abdelkader``).
``Ben`` is not among them: it is also a given name of its own."""


_SPELLING_FOLDS = {
    # consonant digraphs of French, English, German, Dutch and Slavic romanisations
    "tch": "ch", "tsh": "ch", "sh": "ch", "sz": "ch", "kh": "h", "gh": "g", "ph": "f",
    "th": "t", "dzh": "j", "zh": "j", "dj": "j", "ck": "k", "q": "k", "x": "ks",
    # vowels: Dutch oe/ie/ij, French ou, English ee; y and j as the vowel-like i
    "ij": "i", "ou": "u", "oe": "u", "ee": "i", "ie": "i", "y": "i", "j": "i", "ei": "ai",
}
_SPELLING = re.compile("|".join(sorted(_SPELLING_FOLDS, key=len, reverse=True)))
_REPEATED = re.compile(r"(\w)\1+")


@lru_cache(maxsize=1 << 16)
def fold_spelling(word: str) -> str:
    """One spelling for the transliterations of a name word: ``Mohammed`` and ``Mohamed`` →
    ``mohamed``; ``Youssef``, ``Yousef`` and ``Joessef`` → ``iusef``; ``Khadija`` and
    ``Khadidja`` → ``hadia``; ``Hussein`` and ``Hüseyin`` → ``husain``; ``Olexandr`` →
    ``oleksandr``. Letter groups that registers write differently for one sound are mapped
    to one of them (:data:`_SPELLING_FOLDS`, longest first), then doubled letters are
    collapsed, until nothing changes. The result is only hashed, never shown, so it need not
    be a real spelling; what matters is that every provider gets the same one. Remembered
    per word: a register has far fewer distinct name words than names."""
    while True:
        folded = _REPEATED.sub(r"\1", _SPELLING.sub(lambda m: _SPELLING_FOLDS[m.group(0)], word))
        if folded == word:
            return word
        word = folded



def fold_text(raw: str) -> str:
    """Case- and accent-insensitive form of any text; separators are kept as they are.
    ASCII text, most of any Belgian register, only needs lower case: every Unicode step
    below leaves it unchanged (a test compares both ways on every ASCII character)."""
    if raw.isascii():
        return raw.lower()
    return _fold_unicode(raw)


def _fold_unicode(raw: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", raw).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_TRANSLITERATION)
    return unicodedata.normalize("NFKC", text).casefold()


_ASCII_LETTERS = re.compile("[a-z]+")


def _name_words(raw: str) -> list[str]:
    text = fold_text(raw).translate(_APOSTROPHES)
    if text.isascii():
        return _ASCII_LETTERS.findall(text)
    return _letter_words(text)


def _letter_words(text: str) -> list[str]:
    """The runs of letters of folded text; every other character separates."""
    return "".join(ch if ch.isalpha() else " " for ch in text).split()


def _name(raw: str, particles: frozenset[str]) -> str:
    """Words of a name, particles joined to the following word, then spelling-folded (after
    joining, so that ``D Jan`` and ``Djan`` agree). Repeated until stable, because a fold
    can make a particle (``dy`` → ``di``), so that normalising twice changes nothing."""
    words = _name_words(raw)
    while True:
        joined = [fold_spelling(word) for word in _join_particles(words, particles)]
        if joined == words:
            return " ".join(words)
        words = joined


def _join_particles(words: list[str], particles: frozenset[str]) -> list[str]:
    """Join each particle to the next word, until no particle is left before another word
    (repeated because a join can make a particle: ``d a`` → ``da``, itself a particle)."""
    while True:
        joined: list[str] = []
        pending = ""
        for word in words:
            if word in particles:
                pending += word
            else:
                joined.append(pending + word)
                pending = ""
        if pending:
            joined.append(pending)
        if joined == words:
            return joined
        words = joined


def surname(raw: str) -> str:
    """Canonical surname: folded, particles joined, parts separated by one space."""
    return _name(raw, SURNAME_PARTICLES)


def given_names(raw: str) -> str:
    """All given names in their order, separated by one space (a hyphen separates too)."""
    return _name(raw, GIVEN_NAME_PARTICLES)


def first_given_name(raw: str) -> str:
    """The first of the given names, or ``""`` when there is none."""
    names = given_names(raw)
    return names.split(" ", 1)[0]


def text(raw: str) -> str:
    """Generic text: folded, separators and punctuation collapsed to single spaces."""
    folded = fold_text(raw).translate(_APOSTROPHES)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


SEX_CODES: dict[str, str] = {
    **dict.fromkeys(("m", "man", "male", "mannelijk", "h", "homme", "masculin", "mannlich"), "m"),
    **dict.fromkeys(("f", "v", "w", "vrouw", "female", "woman", "vrouwelijk", "femme", "feminin", "weiblich"), "f"),
}


def sex(raw: str) -> str:
    """Sex as ``m`` or ``f`` from :data:`SEX_CODES` (a Dutch ``V`` and an English ``F`` are
    the same woman); any other value as :func:`text`."""
    value = text(raw)
    return SEX_CODES.get(value, value)


@dataclass(frozen=True)
class PartialDate:
    """A birth date whose month and day may be unknown (``00`` in the national register),
    or a date as written that does not exist (31 February, month 13), kept for its parts."""

    year: int
    month: int | None
    day: int | None
    note: str | None = None
    """Why this is not a plain full date (one of the ``NOTE_*`` reasons), for the encoding
    summary; ``None`` for a real, complete date."""

    @property
    def exists(self) -> bool:
        """Whether the date as written is a real past date (or a partial one)."""
        return self.note not in IMPOSSIBLE_NOTES

    def full(self) -> _dt.date | None:
        """The date, when day and month are both known and the date exists."""
        if self.month is None or self.day is None or not self.exists:
            return None
        return _dt.date(self.year, self.month, self.day)

    def nearest_date(self) -> _dt.date | None:
        """The real date nearest to what was written, for a format that can hold no other
        (clkhash's ``date`` features): an unknown month or day becomes 1, as registers write
        an unknown date, and a day the month does not have becomes its last, so that the year
        and the parts known still count; ``None`` for a year before 1000."""
        if self.year < 1000:
            return None
        month = self.month or 1
        return _dt.date(self.year, month, min(self.day or 1, _days_in_month(self.year, month)))

    def written(self, form: str = "%Y%m%d") -> str:
        """Year, month and day as written, in ``form`` (``%Y``, ``%m`` and ``%d`` with any
        separators), ``00`` for an unknown part (the national register's own convention):
        what an impossible or partial date still holds."""
        return form.replace("%Y", f"{self.year:04d}").replace("%m", f"{self.month or 0:02d}") \
            .replace("%d", f"{self.day or 0:02d}")


NOTE_UNREADABLE = "not a date in a recognised form; counted missing"
NOTE_MONTH = "month above 12; kept for its year and day"
NOTE_DAY = "no such day in that month; kept for its parts"
NOTE_FUTURE = "birth date in the future; kept for its parts"
NOTE_YEAR = f"year before {EARLIEST_BIRTH_YEAR}; kept for its parts"
NOTE_PLACEHOLDER = "1 January, taken as unknown day and month"
NOTE_PARTIAL = "day or month unknown"
IMPOSSIBLE_NOTES = frozenset({NOTE_MONTH, NOTE_DAY, NOTE_FUTURE, NOTE_YEAR})
SUSPECT_NOTES = IMPOSSIBLE_NOTES | {NOTE_UNREADABLE}
"""Notes that, on many rows of one column, point at a wrong date order or format."""

_DAY_FIRST = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH_YEAR = re.compile(r"(\d{1,2})[/.\-](\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})[/.\-](\d{1,2})")
_YEAR = re.compile(r"\d{4}")

DATE_FORMS = ("DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY, YYYY-MM-DD or YYYYMMDD "
              "(or MM/YYYY, YYYY-MM, YYYY when only that is known)")


def _date_numbers(value: str) -> tuple[int, int, int] | None:
    """Year, month and day as written (0 for a part not given), or ``None``."""
    if match := _DAY_FIRST.fullmatch(value):
        return int(match[4]), int(match[3]), int(match[1])
    if match := _YEAR_FIRST.fullmatch(value):
        return int(match[1]), int(match[3]), int(match[4])
    if match := _COMPACT.fullmatch(value):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _MONTH_YEAR.fullmatch(value):
        return int(match[2]), int(match[1]), 0
    if match := _YEAR_MONTH.fullmatch(value):
        return int(match[1]), int(match[2]), 0
    if _YEAR.fullmatch(value):
        return int(value), 0, 0
    return None


def birth_date(raw: str, today: _dt.date | None = None) -> PartialDate | None:
    """Parse a birth date in one of :data:`DATE_FORMS`; ``None`` when empty.

    A birth date is identifying data, and registers hold typing errors in it; an impossible
    date is kept for what it holds rather than refused, with a :attr:`PartialDate.note`:

    - day or month ``00`` means unknown, as in the national register; an unknown month makes
      the day unknown too;
    - 1 January gives an unknown day and month: registers write it for a birth date they do
      not know (the national register's ``00/00`` often reaches other registers as
      ``01/01``), and a placeholder that one source has and another has not would count as
      a disagreement;
    - a month above 12 is unknown, its day and year are kept; a day that the month does not
      have (31 April), a date in the future or a year before 1880 keep every part as written
      (:meth:`PartialDate.written`), but :meth:`PartialDate.full` is ``None``.

    Raises :class:`NormalisationError` only for text that is no date in any of the forms.
    """
    value = raw.strip()
    if not value:
        return None
    numbers = _date_numbers(value)
    if numbers is None:
        raise NormalisationError(NOTE_UNREADABLE)
    year, month, day = numbers
    today = today or _dt.date.today()
    if month > 12:
        return PartialDate(year, None, day if 1 <= day <= 31 else None, NOTE_MONTH)
    if month == 0 or day == 0:
        return PartialDate(year, month or None, None, NOTE_PARTIAL)
    if day > _days_in_month(year, month):
        return PartialDate(year, month, day if day <= 31 else None, NOTE_DAY)
    if year < EARLIEST_BIRTH_YEAR:
        return PartialDate(year, month, day, NOTE_YEAR)
    if (year, month, day) > (today.year, today.month, today.day):
        return PartialDate(year, month, day, NOTE_FUTURE)
    if (month, day) == PLACEHOLDER_DAY_MONTH:
        return PartialDate(year, None, None, NOTE_PLACEHOLDER)
    return PartialDate(year, month, day)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31
