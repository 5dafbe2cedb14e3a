# csa_survey: the two commands of the README.
#   make reproduce   set up .venv, rebuild every deck table, write reports/index.html
#   make test        set up .venv, run the whole test suite (notebooks included)
# Both need only Python >= 3.11 with pip and venv; everything else is installed here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: all reproduce test lint venv benchmark clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/csa-survey reproduce --out reports
	@echo "Report: reports/index.html"

lint: $(STAMP)
	$(BIN)/ruff check csa_survey tests benchmarks notebooks
	$(BIN)/ruff format --check csa_survey tests benchmarks notebooks

test: $(STAMP) lint
	$(BIN)/python -m pytest tests csa_survey notebooks \
		--doctest-modules --nbval --nbval-current-env -p no:cacheprovider

benchmark: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
