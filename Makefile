# IsoFind: `make run` starts the server, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/isofind serve

# SQLite always; PostgreSQL too when ISOFIND_TEST_DATABASE_URL names a database.
test: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	ISOFIND_TEST_BACKEND=sqlite $(BIN)/pytest
	@if [ -n "$$ISOFIND_TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$ISOFIND_TEST_DATABASE_URL"; \
		ISOFIND_TEST_BACKEND=postgresql $(BIN)/pytest; \
	else echo "ISOFIND_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench

bench: $(TEST_STAMP)
	$(BIN)/python bench/auth.py

clean:
	rm -rf $(VENV) build src/*.egg-info
