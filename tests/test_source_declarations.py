"""Sources are declarations in data: an operator adds one without code, bad files are refused clearly."""

import subprocess
import sys
import textwrap

import pytest

from linkage.sources import PAYLOAD_VERSION, SOURCES
from linkage.sources.declarations import SourceDeclarationError, bundled_folder, load_folder, load_sources

STATBEL = textwrap.dedent("""\
    format = "linkage-source/1"
    name = "statbel"
    description = "Statbel: household composition"

    [[payload]]
    name = "household_size"
    kind = "int"
    description = "persons in the household"
    minimum = 1
    maximum = 30
    """)


def test_bundled_sources_keep_their_order_and_fingerprint():
    assert list(SOURCES) == ["ksz", "vdab", "integration", "education"]
    # Golden: change a declaration and this fingerprint changes with it; update it knowingly,
    # since extracts made under the old declarations are then refused by the broker.
    assert PAYLOAD_VERSION == "src-996e567858817aca"
    assert all(spec.payload_version == PAYLOAD_VERSION for spec in SOURCES.values())


def test_layout_and_comments_do_not_change_the_fingerprint(tmp_path):
    for path in bundled_folder().glob("*.toml"):
        text = path.read_text()
        (tmp_path / path.name).write_text("# a comment an operator added\n" + text.replace("\n\n", "\n\n\n# note\n"))
    again = load_folder(tmp_path)
    assert {spec.payload_version for spec in again.values()} == {PAYLOAD_VERSION}


def test_a_changed_declaration_gets_a_new_fingerprint(tmp_path):
    for path in bundled_folder().glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text().replace("maximum = 10", "maximum = 11"))
    assert {spec.payload_version for spec in load_folder(tmp_path).values()} != {PAYLOAD_VERSION}


def test_an_operator_adds_a_source_without_code(tmp_path, monkeypatch):
    (tmp_path / "statbel.toml").write_text(STATBEL)
    monkeypatch.setenv("LINKAGE_SOURCES_DIR", str(tmp_path))
    sources, bundled = load_sources()
    assert list(sources)[-1] == "statbel" and bundled == PAYLOAD_VERSION
    assert sources["statbel"].attribute("household_size").parse("4") == 4
    assert sources["statbel"].payload_version not in (PAYLOAD_VERSION, "")


def test_the_added_source_reaches_the_command_line(tmp_path):
    (tmp_path / "statbel.toml").write_text(STATBEL)
    shown = subprocess.run([sys.executable, "-m", "clients.cli", "sources", "statbel"], capture_output=True,
                           text=True, env={"LINKAGE_SOURCES_DIR": str(tmp_path), "PATH": ""}, check=True)
    assert "household_size" in shown.stdout


@pytest.mark.parametrize("change, message", [
    (('name = "statbel"', 'name = "ksz"'), "already a bundled source"),
    (('kind = "int"', 'kind = "float"'), "not one of"),
    (('name = "household_size"', 'name = "surname"'), "identifier in the payload"),
    (('format = "linkage-source/1"', 'format = "2"'), "'format' must be"),
    (('minimum = 1', 'minimun = 1'), "unknown key"),
    (('minimum = 1', 'minimum = 1\nrole = "age"'), "role 'age' is not allowed"),
    (('minimum = 1', 'minimum = 1\nrole = "event"\n\n[[payload]]\nname = "moved"\nkind = "date"\n'
      'description = "d"\nrole = "event"'), "give it to one attribute"),
    (('kind = "int"', 'kind = "str"\nrole = "birth_year"'), "role 'birth_year' is not allowed"),
])
def test_bad_declarations_are_refused_with_the_file_and_field(tmp_path, monkeypatch, change, message):
    (tmp_path / "statbel.toml").write_text(STATBEL.replace(*change))
    monkeypatch.setenv("LINKAGE_SOURCES_DIR", str(tmp_path))
    with pytest.raises(SourceDeclarationError, match=message):
        load_sources()
