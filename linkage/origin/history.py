"""A person's nationality history (the input) and origin (the output of a definition)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NationalityHistory:
    """NIS nationality codes ("150" = Belgium); None when not known."""

    nat_current: str | None
    nat_first: str | None
    nat_first_father: str | None
    nat_first_mother: str | None

    def as_tuple(self) -> tuple[str | None, str | None, str | None, str | None]:
        return (self.nat_current, self.nat_first, self.nat_first_father, self.nat_first_mother)


@dataclass(frozen=True)
class Origin:
    category: str        # e.g. "belgian_belgian_origin", "belgian_foreign_origin", "non_belgian", "unknown"
    country: str | None  # NIS code of the origin country
    generation: str      # "none", "first", "second_two_parents", "second_one_parent", ..., "unknown"
