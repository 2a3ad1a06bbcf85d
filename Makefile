# Two commands on a fresh machine: `make demo` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# clkhash 0.18.3 (its last release) pins cryptography<41; we run it on a current,
# patched cryptography instead. tests/test_dependencies.py proves clkhash still encodes
# identically under it. See README, "Dependency decision".
CRYPTOGRAPHY := cryptography==50.0.2

.PHONY: setup test demo bench proto clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps '$(CRYPTOGRAPHY)' 2>&1 | grep -v -e 'dependency resolver' -e '^clkhash ' || true
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest tests

demo: $(STAMP)
	$(BIN)/python deploy/demo.py

bench: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check anonlink==0.15.3 || echo "anonlink did not install: benchmarks run without the side-by-side comparison"
	for bench in bench/bench_*.py; do $(BIN)/python $$bench || exit 1; done

# Regenerate proto/linkage/v1/*_pb2*.py from the .proto files (the result is committed;
# tests/broker checks it does not drift).
proto: $(STAMP)
	$(BIN)/python -m proto.generate

clean:
	rm -rf $(VENV) build *.egg-info demo-out bench-out
