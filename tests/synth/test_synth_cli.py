"""``linkage synth`` and the library entry point: arguments, errors, atomic output."""

from __future__ import annotations

import json

import pytest

from clients.cli import main
from linkage.errors import LinkageError
from linkage.synth import OutputDirError, SynthArgumentError, generate
from linkage.synth import output as synth_output


def test_command_writes_the_extracts(tmp_path, capsys):
    outdir = tmp_path / "out"
    assert main(["synth", "--persons", "400", "--seed", "9", str(outdir)]) == 0
    assert "wrote 400 persons" in capsys.readouterr().out
    meta = json.loads((outdir / "summary.json").read_text())
    assert meta["persons"] == 400 and meta["seed"] == 9


def test_command_reads_a_configuration_file(tmp_path):
    config = tmp_path / "rates.json"
    config.write_text(json.dumps({"noise": {"ksz": {"moved": 1.0}}}))
    outdir = tmp_path / "out"
    assert main(["synth", "--persons", "300", "--config", str(config), "--quiet", str(outdir)]) == 0
    meta = json.loads((outdir / "summary.json").read_text())
    assert meta["config"]["noise"]["ksz"]["moved"] == 1.0


@pytest.mark.parametrize("persons", ["0", "-5", "12500001"])
def test_out_of_range_person_counts_are_refused(tmp_path, capsys, persons):
    assert main(["synth", "--persons", persons, "--quiet", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "number of persons must be a whole number from 1 to" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("persons, seed", [(0, 1), (True, 1), ("10", 1), (10, -1), (10, 1.5)])
def test_library_checks_its_arguments(tmp_path, persons, seed):
    with pytest.raises(SynthArgumentError):
        generate(persons, seed, tmp_path / "out")


def test_non_empty_directory_needs_force(tmp_path, capsys):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("mine")
    assert main(["synth", "--persons", "200", "--quiet", str(outdir)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (outdir / "keep.txt").read_text() == "mine"
    assert main(["synth", "--persons", "200", "--quiet", "--force", str(outdir)]) == 0
    assert not (outdir / "keep.txt").exists() and (outdir / "truth.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_empty_directory_is_used(tmp_path):
    outdir = tmp_path / "empty"
    outdir.mkdir()
    generate(150, 1, outdir)
    assert (outdir / "persons.csv").exists()


def test_bad_configuration_file_is_a_clear_error(tmp_path, capsys):
    config = tmp_path / "rates.json"
    config.write_text("{not json")
    assert main(["synth", "--persons", "10", "--config", str(config), str(tmp_path / "o")]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert main(["synth", "--persons", "10", "--config", str(tmp_path / "missing.json"),
                 str(tmp_path / "o")]) == 2
    assert "cannot read the configuration" in capsys.readouterr().err


def test_output_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OutputDirError, match="not a directory"):
        generate(10, 1, target)


def test_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "previous.csv").write_text("earlier run")
    real = synth_output.write_csv

    def failing(path, header, columns):
        if path.name == "persons.csv":
            raise OSError("disk full")
        real(path, header, columns)

    monkeypatch.setattr("linkage.synth.generator.write_csv", failing)
    with pytest.raises(OSError):
        generate(200, 1, outdir, force=True)
    assert [p.name for p in outdir.iterdir()] == ["previous.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_errors_are_linkage_errors():
    assert issubclass(SynthArgumentError, LinkageError) and issubclass(OutputDirError, LinkageError)
