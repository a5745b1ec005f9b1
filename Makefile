# Two commands on a fresh machine: `make demo` and `make test`. Both install first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One test worker more than the cores: many tests wait on a server, a disk or a child
# process, and the extra worker fills those waits.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print((os.cpu_count() or 1) + 1)")

.PHONY: install demo test test-heavy lint check screenshots benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv if absent and install bankml with its needs

demo: install  ## the end-to-end demo on embedded defaults
	$(BIN)/bankml demo

test: install  ## every test but the heavy ones: unit, integration (SQLite, PostgreSQL), e2e
	$(BIN)/python -m pytest -m "not heavy" -n $(TEST_WORKERS) --dist loadfile

test-heavy: install  ## the tests of minutes: the onboarding guide, a portfolio, serve's schedule
	$(BIN)/python -m pytest -m heavy

lint: install  ## ruff, mypy --strict, import-linter
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test  ## what CI runs

screenshots: install  ## the web UI's pages photographed by the browser tests, into docs/ui/
	UI_SCREENSHOTS=$(CURDIR)/docs/ui $(BIN)/python -m pytest -q tests/e2e/test_ui_browser.py tests/e2e/test_ui_weekly_browser.py

clean:
	rm -rf $(VENV) .bankml .pytest_cache .mypy_cache .ruff_cache
