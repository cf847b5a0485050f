# Quick start: `make demo` then `make test`. Everything runs inside .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test check evaluate bench train clean browser screenshots bench-pages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,reports,pages-test]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/tonecheck score examples/drafts.csv --table

# PYTEST_ARGS: extra pytest options (make check adds the coverage report and its floor).
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# What CI runs (.ci/run): lint, types, then the README's test command with the coverage floor
# of pyproject.toml.
check: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy src/tonecheck
	$(MAKE) test PYTEST_ARGS="--cov --cov-report=term-missing:skip-covered"

# Debian's Chromium and its driver (and a colour emoji font) for the pages' browser tests;
# without them those tests skip. Needs root: .ci/run calls it.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "chromium and chromedriver present"; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver fonts-noto-color-emoji; fi

# The browser tests again, saving their screenshots into docs/ (the README shows them).
screenshots: $(STAMP)
	TONECHECK_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_pages_browser.py

bench-pages: $(STAMP)
	$(BIN)/python benchmarks/pages.py

# The real-only yardstick first (reports/real_yardstick.md: leave-one-source-out on real posts),
# then the full report on the authored and lockdown splits (reports/evaluation.md).
evaluate: $(STAMP)
	$(BIN)/python scripts/yardstick.py --only shipped-config whole-spacy-tokens social-text-lemmas plain-tfidf-lr
	$(BIN)/tonecheck evaluate --report reports/ --quick

train: $(STAMP)
	$(BIN)/tonecheck train --output models/ --force --all-splits

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) build src/*.egg-info
