# XaSo: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export XASO_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test lint typecheck pytest bench translations clean i18n-update e2e-deps e2e

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "XaSo needs Python 3.11 or newer: make PYTHON=python3.12 $(MAKECMDGOALS)" >&2; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# An empty catalog compiles fine; no catalog at all is not an error either.
translations: $(STAMP)
	if ls service/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d service/translations -f; fi

run: $(STAMP) translations
	$(BIN)/xaso db upgrade
	$(BIN)/xaso demo load
	XASO_ENV=development $(BIN)/flask --app service run --host 127.0.0.1 --port 5000

lint: $(STAMP)
	$(BIN)/ruff check service tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy service

# The browser tests (tests/e2e) drive Debian's Chromium and inject axe-core from npm. Missing Chromium is
# installed when we can (root with apt-get); otherwise those tests skip and say why (REQUIRE_E2E=1 fails them).
E2E := tests/e2e
export E2E_CHROMIUM ?= /usr/bin/chromium

e2e-deps:
	@if [ ! -x "$(E2E_CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } || \
				echo "e2e: could not install chromium; the browser tests will be skipped" >&2; \
		else \
			echo "e2e: $(E2E_CHROMIUM) is missing (install Debian's chromium package as root); the browser tests will be skipped" >&2; \
		fi; \
	fi
	@if [ ! -f $(E2E)/node_modules/axe-core/axe.min.js ]; then \
		if command -v npm >/dev/null 2>&1; then (cd $(E2E) && npm ci --no-audit --no-fund) || \
			echo "e2e: npm ci failed; the browser tests will be skipped" >&2; \
		else echo "e2e: npm is missing, so is axe-core; the browser tests will be skipped" >&2; fi; \
	fi

pytest: $(STAMP) translations e2e-deps
	$(BIN)/pytest

# The browser tests alone (pytest runs them too); screenshots land in tests/e2e/artifacts/.
e2e: $(STAMP) translations e2e-deps
	$(BIN)/pytest tests/e2e

test: lint typecheck pytest

bench: $(STAMP) translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance $(E2E)/node_modules $(E2E)/artifacts

# Maintainers: after adding UI strings, refresh the catalog, then translate the new entries.
i18n-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o service/translations/messages.pot .
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations --no-location
