"""Which CSV column and which normaliser feed each feature of the schema.

A feature's identifier names its CSV column, optionally with a part after a dot:

=====================  ====================  =============================================
identifier             column                value hashed
=====================  ====================  =============================================
``surname``            ``surname``           :func:`linkage.normalise.surname`
``given_names``        ``given_names``       all given names, in order, one space apart
``given_names.first``  ``given_names``       the first given name
``birth_date``         ``birth_date``        the full date: for a string format the first
                                             of :data:`STRING_DATE_FORMS` that its pattern
                                             and length accept (``YYYY-MM-DD`` if free),
                                             ``YYYYMMDD`` for an integer one, the schema's
                                             format for a date one; a partial or impossible
                                             date keeps its digits (``00`` where unknown),
                                             or is the nearest real date where the format
                                             refuses those (1 for an unknown day or month)
``birth_date.day``     ``birth_date``        ``01``..``31`` (missing when unknown, ``00``)
``birth_date.month``   ``birth_date``        ``01``..``12`` (missing when unknown)
``birth_date.year``    ``birth_date``        ``YYYY``
``sex``                ``sex``               :func:`linkage.normalise.sex` (``M``/``V``,
                                             ``H``/``F``, words), matched to the schema's
                                             enum values by the same rule
anything else          the identifier        by its clkhash format: text folded
                                             (:func:`linkage.normalise.text`), dates parsed
                                             like birth dates, integers and enum values
                                             matched without regard to case or accents
=====================  ====================  =============================================

:data:`COLUMN_KINDS` lists the column names that get the name and date rules (English and
Dutch spellings). The normalised value is then checked with clkhash's own validator for
the feature (pattern, length, case), so clkhash never sees a value it would reject (a value
that fails is counted missing and noted, the row is kept: noisy identifiers are data): its
``"case": "lower"`` check, which refuses upper-case input instead of lowering it, is met
because normalisation folds case first, and ``"case": "upper"`` gets upper-case values (a
pattern that refuses lower case, upper or title case: :func:`_text_case`). When the format
refuses a column's values on many rows the encoding stops (:data:`REFUSALS`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence, Union

from clkhash.field_formats import (
    DateSpec,
    EnumSpec,
    FieldSpec,
    Ignore,
    IntegerSpec,
    MissingValueSpec,
    StringSpec,
)

from linkage import normalise
from linkage.encoding.schema import SchemaError
from linkage.normalise import NormalisationError, PartialDate

GIVEN_NAMES, SURNAME, DATE, SEX, TEXT = "given_names", "surname", "date", "sex", "text"

COLUMN_KINDS: dict[str, str] = {
    **dict.fromkeys(("given_names", "given_name", "first_name", "first_names", "forenames",
                     "voornaam", "voornamen"), GIVEN_NAMES),
    **dict.fromkeys(("surname", "last_name", "family_name", "achternaam", "familienaam"), SURNAME),
    **dict.fromkeys(("birth_date", "date_of_birth", "dob", "geboortedatum"), DATE),
    **dict.fromkeys(("sex", "gender", "geslacht", "sexe"), SEX),
}
PARTS: dict[str, tuple[str, ...]] = {GIVEN_NAMES: ("first",), DATE: ("day", "month", "year")}

STRING_DATE_FORMS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y.%m.%d",
                     "%d%m%Y")
"""How a full date is written into a ``string`` feature: the first form whose sample the
feature's pattern and length accept. Every provider runs the same rule on the same schema,
so the form only has to pass clkhash's validation; a pattern that accepts none is refused
when the schema is read, instead of every date being counted missing."""
SAMPLE_DATE = PartialDate(1987, 6, 15)
SAMPLE_NAME = "jan pieter"

Base = Union[str, PartialDate, None]
"""The normalised column value a feature derives its value from; ``None`` when missing."""


class FeatureError(ValueError):
    """A cell cannot give a value for a feature; the message never contains the value."""


REFUSALS = ("not one of the schema's values", "does not match the schema pattern",
            "shorter than the schema's minLength", "longer than the schema's maxLength",
            "does not fit the schema format")
"""How the notes begin when the schema's own format refuses a normalised value (which is
then counted missing): on many rows of a column, the schema does not fit the data."""


CACHE_SIZE = 1 << 16
"""Cells normalised per feature and kept: names and dates repeat, so most rows hit."""

Cell = tuple[Union[str, None], Union[str, None]]
"""What a feature makes of its cells: the value to hash (``None`` when missing) and a note
for the encoding summary when the cells were noisy (``None`` when they were clean)."""


Normalisers = dict[tuple[str, Callable[[str], Base]], Callable[[str], Base]]
"""Cached normalisers by column and rule, shared by the features that read one column."""


class Source:
    """Where a feature (or one part of a combined name feature) reads its value."""

    def __init__(self, column: str, kind: str, part: str | None, field: FieldSpec,
                 normalisers: Normalisers) -> None:
        self.column = column
        self.kind = kind
        self.part = part
        rule = _normaliser(kind, field)
        self.normalise = normalisers.setdefault((column, rule), lru_cache(maxsize=CACHE_SIZE)(rule))
        """Cached per column too, and shared: a combined feature's cells rarely repeat
        together, but a surname or a given name alone does, and the day, month and year
        features read one date."""


class Feature:
    """One schema feature: where its value comes from and how it is normalised and checked."""

    def __init__(self, identifier: str, sources: Sequence[Source], field: FieldSpec) -> None:
        self.identifier = identifier
        self.sources = tuple(sources)
        self.columns = tuple(source.column for source in self.sources)
        self.column = "+".join(self.columns)
        """The column, or the columns joined by ``+``; named in messages."""
        self.field = field
        self.date_form = _string_date_form(identifier, field) \
            if any(source.kind == DATE and source.part is None for source in sources) else None
        """How a full date is written into this feature when it is a string one."""
        self.text_case = _text_case(field)
        """How the normalised (lower-case) value is cased for the schema, if at all."""
        properties = field.hashing_properties
        if properties.missing_value is None:
            properties.missing_value = MissingValueSpec(sentinel="", replace_with="")
        self.missing_token = properties.missing_value.sentinel
        """What clkhash receives for a missing value: the schema's sentinel, or ``""`` (no bits)."""
        self.cell = lru_cache(maxsize=CACHE_SIZE)(self._cell)

    def cell_value(self, *raw: str) -> str | None:
        """The value to hash for the raw cells of :attr:`columns` (``None`` when missing)."""
        return self.cell(*raw)[0]

    def _cell(self, *raw: str) -> Cell:
        """The value to hash for the raw cells of :attr:`columns`, adapted to the clkhash
        format, and the note on a noisy value. A noisy value is data, not a bad row: an
        impossible date gives what it still holds, and a value the schema's format refuses
        counts as missing; the note says which, never what the value was."""
        notes: list[str] = []
        try:
            parts = [self._part_value(source, cell, notes) for source, cell in zip(self.sources, raw)]
            value = " ".join(part for part in parts if part)
            if value and self.text_case is not None:
                value = self.text_case(value)
            if value:
                _check(self.field, value)
        except FeatureError as exc:
            return None, "; ".join([*notes, f"{exc}; counted missing"])
        return value or None, "; ".join(notes) or None

    def _part_value(self, source: Source, raw: str, notes: list[str]) -> str | None:
        cell = raw.strip()
        if cell == "" or self.field.is_missing_value(cell):
            return None
        try:
            base = source.normalise(raw)
        except NormalisationError as exc:
            notes.append(str(exc))
            return None
        if isinstance(base, PartialDate) and base.note is not None:
            notes.append(base.note)
        return self._derive(base, source.part) if base not in (None, "") else None

    def _derive(self, base: Base, part: str | None) -> str | None:
        if isinstance(base, PartialDate):
            value = _date_part(base, part, self.field, self.date_form)
        elif part == "first":
            value = base.split(" ", 1)[0]
        else:
            value = base
        if value is not None and isinstance(self.field, EnumSpec):
            return _enum_value(self.field, value, normalise.sex if self.sources[0].kind == SEX else normalise.text)
        return value


def _date_part(date: PartialDate, part: str | None, field: FieldSpec, form: str | None) -> str | None:
    """One part of a date, or the whole date in the feature's format. A whole date that is
    partial or impossible keeps its digits (``00`` for an unknown part) in a string or
    integer feature; where the format cannot hold those (a ``date`` feature, which clkhash
    must parse, or a string pattern that refuses ``00``) it becomes the nearest real date
    (1 January for an unknown day and month): counted missing, it would lose its year, and a
    namesake whose date is also unknown would then outscore the partner whose is not."""
    if part == "year":
        return f"{date.year:04d}"
    if part == "month":
        return None if date.month is None else f"{date.month:02d}"
    if part == "day":
        return None if date.day is None else f"{date.day:02d}"
    if isinstance(field, IntegerSpec):
        return date.written()
    form = field.format if isinstance(field, DateSpec) else form or STRING_DATE_FORMS[0]
    if isinstance(field, StringSpec) and _accepts(field, written := date.written(form)):
        return written
    nearest = date.nearest_date()
    return None if nearest is None else nearest.strftime(form)


def _string_date_form(identifier: str, field: FieldSpec) -> str | None:
    """The first of :data:`STRING_DATE_FORMS` a string feature accepts; ``None`` for
    another format type; :class:`SchemaError` when it accepts none."""
    if not isinstance(field, StringSpec):
        return None
    for form in STRING_DATE_FORMS:
        if _accepts(field, SAMPLE_DATE.written(form)):
            return form
    forms = ", ".join(form.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for form in STRING_DATE_FORMS)
    raise SchemaError(
        f"feature {identifier!r} is a string whose pattern or length accepts no birth date form ({forms}): "
        "every date would be counted missing; declare it as a clkhash date "
        '({"type": "date", "format": "%Y-%m-%d"}) or let its pattern accept one of those forms')


def _text_case(field: FieldSpec) -> Callable[[str], str] | None:
    """How normalised text (lower case) is cased for a string feature: upper case where
    clkhash's ``"case": "upper"`` asks for it (its check refuses lower case instead of
    raising it), and for a pattern that refuses lower case the first of upper and title case
    it accepts for a sample name (``[A-Z ]+``, ``[A-Z][a-z]+( [A-Z][a-z]+)*``); ``None``:
    as normalised."""
    if not isinstance(field, StringSpec):
        return None
    if not field.regex_based:
        return str.upper if field.case == "upper" else None
    if _accepts(field, SAMPLE_NAME):
        return None
    return next((case for case in (str.upper, str.title) if _accepts(field, case(SAMPLE_NAME))), None)


def _accepts(field: FieldSpec, value: str) -> bool:
    try:
        _check(field, value)
    except FeatureError:
        return False
    return True


def _enum_value(field: EnumSpec, value: str, rule: Callable[[str], str]) -> str:
    """The schema's own spelling of ``value`` (normalised by ``rule``): the allowed value that
    ``rule`` gives the same (``"female"`` for a column's ``V`` under :func:`normalise.sex`)."""
    for allowed in field.values:
        if rule(allowed) == rule(value):
            return allowed
    raise FeatureError(f"{REFUSALS[0]} for {field.identifier!r}")


def _check(field: FieldSpec, value: str) -> None:
    """clkhash's own validation, with a message that does not repeat the value."""
    if isinstance(field, StringSpec):
        if field.regex_based:
            if field.regex.fullmatch(value) is None:
                raise FeatureError(f"{REFUSALS[1]} of {field.identifier!r}")
            return
        if field.min_length is not None and len(value) < field.min_length:
            raise FeatureError(f"{REFUSALS[2]} {field.min_length} after normalisation")
        if field.max_length is not None and len(value) > field.max_length:
            raise FeatureError(f"{REFUSALS[3]} {field.max_length} after normalisation")
    try:
        field.validate(value)
    except ValueError:
        raise FeatureError(f"{REFUSALS[4]} of {field.identifier!r}") from None


def _normaliser(kind: str, field: FieldSpec) -> Callable[[str], Base]:
    if kind == GIVEN_NAMES:
        return normalise.given_names
    if kind == SURNAME:
        return normalise.surname
    if kind == DATE:
        return normalise.birth_date
    if kind == SEX:
        return normalise.sex
    if isinstance(field, IntegerSpec):
        return str.strip
    return normalise.text


def _kind_for(column: str, field: FieldSpec) -> str:
    if column in COLUMN_KINDS:
        return COLUMN_KINDS[column]
    return DATE if isinstance(field, DateSpec) else TEXT


def _split(identifier: str) -> tuple[str, str | None]:
    column, dot, part = identifier.rpartition(".")
    if dot and column in COLUMN_KINDS:
        kind = COLUMN_KINDS[column]
        if part not in PARTS.get(kind, ()):
            known = ", ".join(PARTS.get(kind, ())) or "none"
            raise SchemaError(f"feature {identifier!r}: {column} has no part {part!r} (parts: {known})")
        return column, part
    return identifier, None


def _check_format(identifier: str, kind: str, part: str | None, field: FieldSpec) -> None:
    allowed: tuple[type, ...]
    if kind in (GIVEN_NAMES, SURNAME):
        allowed = (StringSpec,)
    elif kind == DATE and part is None:
        allowed = (StringSpec, DateSpec, IntegerSpec)
    elif kind == DATE:
        allowed = (StringSpec, IntegerSpec, EnumSpec)
    else:
        return
    if not isinstance(field, allowed):
        names = " or ".join(cls.__name__.removesuffix("Spec").lower() for cls in allowed)
        raise SchemaError(f"feature {identifier!r} needs format type {names}")


def _sources(identifier: str, field: FieldSpec, normalisers: Normalisers) -> list[Source]:
    """The column(s) a feature reads; ``A+B`` combines name columns (and only those)."""
    sources = []
    for piece in identifier.split("+"):
        column, part = _split(piece)
        kind = _kind_for(column, field)
        _check_format(identifier, kind, part, field)
        sources.append(Source(column, kind, part, field, normalisers))
    if len(sources) > 1:
        if any(source.kind not in (GIVEN_NAMES, SURNAME) for source in sources):
            raise SchemaError(f"feature {identifier!r}: only name columns can be combined with '+'")
        if len({source.column for source in sources}) < len(sources):
            raise SchemaError(f"feature {identifier!r} names a column twice")
    return sources


def plan_features(fields: Sequence[FieldSpec]) -> list[Feature | None]:
    """One :class:`Feature` per clkhash field, ``None`` for ignored ones.

    Fields without a ``missingValue`` get the empty string as sentinel, so a missing value
    sets no bits (instead of failing clkhash's date or integer parsing).
    """
    kinds: dict[str, str] = {}
    normalisers: Normalisers = {}
    plan: list[Feature | None] = []
    for field in fields:
        if isinstance(field, Ignore) or field.hashing_properties is None:
            plan.append(None)
            continue
        sources = _sources(field.identifier, field, normalisers)
        for source in sources:
            if kinds.setdefault(source.column, source.kind) != source.kind:
                raise SchemaError(f"features reading column {source.column!r} need different normalisation")
        plan.append(Feature(field.identifier, sources, field))
    return plan
