# The two commands of the README's quick start are `make demo` and `make test`; both
# create .venv when missing and install what they need, so a fresh machine with
# Python >= 3.11 needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: demo test check lint typecheck format bench screenshots clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "postureapp needs Python >= 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

# Stamps so that a second `make test` does not reinstall; they follow pyproject.toml.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test]'
	@touch $@

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[demo]'
	@touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/posture demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy cannot follow the package-dir mapping of an editable install (checks/ and
# collectors/ install as postureapp.checks and postureapp.collectors), so it reads a tree
# of symlinks that has the installed layout; paths in its report stay readable. The tree
# is rebuilt each time (a new module must appear in it) but its cache lives beside it, so
# a second run rechecks only what changed (~50 s cold, a few seconds warm).
TYPECHECK_TREE := $(VENV)/typecheck
typecheck: $(VENV)/.installed-test
	@rm -rf $(TYPECHECK_TREE) && mkdir -p $(TYPECHECK_TREE)/postureapp
	@for entry in postureapp/*; do ln -s "$(CURDIR)/$$entry" $(TYPECHECK_TREE)/postureapp/; done
	@ln -s "$(CURDIR)/checks" $(TYPECHECK_TREE)/postureapp/checks
	@ln -s "$(CURDIR)/collectors" $(TYPECHECK_TREE)/postureapp/collectors
	cd $(TYPECHECK_TREE) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml \
		--cache-dir $(CURDIR)/$(VENV)/mypy-cache -p postureapp

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint typecheck test

bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.benchmarks.run

screenshots: $(VENV)/.installed-test
	$(BIN)/python -m tests.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
