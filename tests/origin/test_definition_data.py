"""The definitions document: validation of what it names, and fingerprints that follow changes."""

import copy
import tomllib
from importlib import resources

import pytest

from linkage.origin import OriginError, country_table
from linkage.origin.definitions import fingerprint_basis, parse_definitions
from linkage.origin.groupings import groupings_document, shipped_groupings


def _doc():
    text = (resources.files("linkage.origin") / "data" / "definitions.toml").read_text("utf-8")
    return tomllib.loads(text)


def _parse(doc, basis="basis"):
    return parse_definitions(doc, shipped_groupings(), basis)


def test_shipped_document_parses():
    assert set(_parse(_doc())) == {"sem", "statbel", "serv_eu15", "non_eu_first_nationality"}


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(scheme="majority"), "scheme must be one of"),
    (lambda d: d.update(missing="guess"), "missing must be one of"),
    (lambda d: d.update(country_precedence=["nat_grandfather"]), "country_precedence must be a list of"),
    (lambda d: d.update(foreign_when={"grouping": "sem_regions", "group": "maghreb"}), "otherwise"),
    (lambda d: d.update(foreign_when={"grouping": "belgium", "group": "abroad"}), "foreign_when"),
    (lambda d: d.update(natural_grouping="continents"), "no grouping 'continents'"),
    (lambda d: d.update(categories={"reference": "unknown", "foreign": "x"}), "distinct"),
    (lambda d: d.update(criteria=["nat_first"]), "always uses all four"),
    (lambda d: d.pop("source"), "lacks source"),
])
def test_invalid_definitions_are_rejected(change, message):
    doc = _doc()
    change(doc["definitions"]["sem"])
    with pytest.raises(OriginError, match=message):
        _parse(doc)


def test_unsupported_format_is_rejected():
    doc = _doc()
    doc["format"] = 2
    with pytest.raises(OriginError, match="format"):
        _parse(doc)


def test_fingerprint_changes_with_the_definition_and_with_what_it_depends_on():
    base = _parse(_doc())
    changed_doc = _doc()
    changed_doc["definitions"]["sem"]["country_precedence"].reverse()
    changed = _parse(changed_doc)
    assert changed["sem"].fingerprint != base["sem"].fingerprint
    assert changed["statbel"].fingerprint == base["statbel"].fingerprint
    # the groupings and the code table enter every fingerprint through the basis
    assert _parse(_doc(), "other")["statbel"].fingerprint != base["statbel"].fingerprint
    groupings = copy.deepcopy(groupings_document())
    groupings["groupings"]["sem_regions"]["historic"]["YUCS"] = "candidates"
    assert fingerprint_basis(groupings, country_table()) != fingerprint_basis(groupings_document(), country_table())
