# Two commands matter: `make lab` (the main job) and `make test`.
# Every target builds .venv first when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: lab test lint bench fuzz venv browser notebooks report docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## make lab: start the embedded sandbox and open JupyterLab on notebooks/ (as root too)
## (JupyterLab options: make lab LAB_ARGS="--port 9999"; the demo data is temporary:
##  .venv/bin/argyle-nb lab --db demo.sqlite keeps it)
lab: $(STAMP)
	$(BIN)/argyle-nb lab $(if $(strip $(LAB_ARGS)),-- $(LAB_ARGS))

## make test: set up, lint, type-check and run every test (unit, integration, notebooks, browser)
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make fuzz: the property-based tests with wide random exploration (make test runs them seeded)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -m property -p no:cacheprovider

## make bench: the performance targets, measured side by side in one run
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## browser: Debian's chromium for the real-browser test (installed when we may: root, apt-get present)
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian chromium for the browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser test will skip (and fail in CI)"; \
	fi

## make docs: build the documentation site into site/ and serve it on http://127.0.0.1:8000
## (make test builds it with --strict: a broken reference or link fails)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

## make notebooks: execute the notebooks and store only the outputs nbval checks
notebooks: $(STAMP)
	$(BIN)/python -m tests.notebook_outputs

## make report: execute every notebook into reports/<YYYY-MM-DD>/ as offline HTML, with an index
## (options: make report REPORT_ARGS="--users 200 --seed 7"; keys only from the environment)
report: $(STAMP)
	$(BIN)/argyle-nb report $(REPORT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info site
