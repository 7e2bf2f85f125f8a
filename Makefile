# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test check build clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest

check: setup
	$(BIN)/jiuzhu check tables

build: setup
	$(BIN)/jiuzhu build tables --out build

run: setup
	$(BIN)/jiuzhu check tables
	$(BIN)/jiuzhu build tables --out build
	$(BIN)/jiuzhu evaluate --households tables/samples/households.jsonl --out build/sample-decisions.csv --summary

clean:
	rm -rf $(VENV) build
