# Two commands on a fresh machine:  `make run`  (the service with demo data)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps, one .venv: running needs only the service's dependencies (`pip install -e .`);
# the tests, linters and benchmarks add the dev tools (`.[dev]`: pytest, mypy, playwright ...)
# and the Python client for shop backends, its own distribution (clients/python/), whose tests
# run in the suite.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/consent_test
export CONSENT_INSTANCE_PATH ?= $(CURDIR)/instance
# Receipts, banner links and the demo's widget tag name the service by this URL.
export CONSENT_BASE_URL ?= http://$(HOST):$(PORT)

# Path without the query string and no Referer: sign-in, preferences and unsubscribe links
# carry their tokens in the query, and a log must never hold a token.
ACCESS_LOG_FORMAT := %(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms

.PHONY: run worker test test-quick test-sqlite test-postgres test-js test-browser lint bench clean widget

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP) clients/python/pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]' -e clients/python
	touch $(DEV_STAMP)

# The widget's build tools (esbuild, pinned exactly in package-lock.json); only `make widget`
# and the tests need them, never `make run`.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## widget: minify the widget's sources with esbuild into widget/dist/; commit the result (the
## service serves a built file only while it matches the sources, and says so when it does not)
widget: $(RUN_STAMP) $(NODE_STAMP)
	$(BIN)/python -c 'from widget.assets import build; build()'

# Where `make run` notes the URL it serves, so `make worker` (another terminal, often without
# the same PORT) writes links to the running service.
SERVED_URL_FILE := $(CONSENT_INSTANCE_PATH)/served-base-url
# The worker's URL: HOST, PORT or CONSENT_BASE_URL given to it win; else what `make run` noted.
WORKER_BASE_URL := $(if $(filter-out file undefined default,$(origin HOST) $(origin PORT) $(origin CONSENT_BASE_URL)),$(CONSENT_BASE_URL),$(or $(shell cat '$(SERVED_URL_FILE)' 2>/dev/null),$(CONSENT_BASE_URL)))

# gunicorn's processes x threads for `make run` and `make bench`: chosen by measurement
# (`python -m tests.bench.sizing`; README "Sizing gunicorn"), e.g. `make run WORKERS=4`.
WORKERS ?= 2
THREADS ?= 4

## run: migrate the SQLite database in instance/, load the demo shop (what is missing only:
## admin edits stay), serve on HOST:PORT with WORKERS processes x THREADS threads (SQLite's
## file lock orders the processes' writes; production: the same on PostgreSQL, sized for it)
run: $(RUN_STAMP)
	$(BIN)/consent-service db upgrade
	$(BIN)/consent-service demo load
	@mkdir -p '$(CONSENT_INSTANCE_PATH)' && echo '$(CONSENT_BASE_URL)' > '$(SERVED_URL_FILE)'
	@echo "consent-service on http://$(HOST):$(PORT)  (try /v1/policies/demo-shop/privacy-policy/latest)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --worker-class gthread --threads $(THREADS) \
		--access-logfile - --access-logformat '$(ACCESS_LOG_FORMAT)' wsgi:app

## worker: deliver the outbox (webhooks, policy-notice emails to CONSENT_SMTP_HOST:PORT,
## localhost:1025 by default) for the database `make run` serves, with links to the URL it
## serves; Ctrl-C stops it
worker: $(RUN_STAMP)
	@echo "worker: links in emails name $(WORKER_BASE_URL)"
	CONSENT_BASE_URL='$(WORKER_BASE_URL)' $(BIN)/consent-service worker

## test: lint, import contracts, the widget's JS units, the suite on SQLite, then on PostgreSQL
## when it is reachable, then the widget in a real browser
test: lint test-js test-sqlite test-postgres test-browser

## test-quick: the SQLite suite without the tests marked slow (worker processes, the generated
## API contract run); `make test` and CI run them all
test-quick: $(DEV_STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test-sqlite: $(DEV_STAMP)
	$(BIN)/pytest

test-postgres: $(DEV_STAMP)
	@if $(BIN)/python -c "import sys; from tests.support import postgres_reachable; sys.exit(not postgres_reachable('$(PG_TEST_URL)'))"; then \
		echo "== the suite again on PostgreSQL ($(PG_TEST_URL))"; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest; \
	elif [ -n "$$CI" ]; then \
		echo "CI must run the PostgreSQL suite, but $(PG_TEST_URL) is not reachable"; exit 1; \
	else \
		echo "== PostgreSQL not reachable at $(PG_TEST_URL): skipped the PostgreSQL run"; \
	fi

## test-js: the widget's pure parts (GPP encoder, decision rule, cookie format), Node's runner;
## installs the pinned esbuild too, so the suite can check widget/dist is what esbuild builds
test-js:
	@if command -v node >/dev/null; then \
		$(MAKE) --no-print-directory $(NODE_STAMP) && node --test widget/tests/; \
	elif [ -n "$$CI" ]; then \
		echo "CI must run the widget's JS tests, but node is not installed"; exit 1; \
	else \
		echo "== node not installed: skipped the widget's JS tests"; \
	fi

## test-browser: the widget in Debian's chromium (Playwright) against the real app
test-browser: $(DEV_STAMP)
	TEST_BROWSER=1 $(BIN)/pytest -m browser tests/browser

## bench: on SQLite and PostgreSQL, look-ups, consents and the banner over HTTP against a bare
## Flask endpoint served the same way (req/s, p50/p99, CPU per request, ratio; wrk if installed),
## bulk 10,000 look-ups and latency from 10k to 1M customers, the widget's bytes, the banner's
## paint, consent tokens (issue cost, the client's verifications per second per core),
## campaigns, self-service, the retention job over 1M decision-log and 100k outbox rows, and a
## 10-page compliance scan over 5 regions x 4 situations (wall time, peak memory)
bench: $(DEV_STAMP)
	$(BIN)/python -m tests.bench.run --pg-url $(PG_TEST_URL) --workers $(WORKERS) --threads $(THREADS)
	$(BIN)/python -m tests.bench.lookups --pg-url $(PG_TEST_URL) --no-http
	$(BIN)/python -m tests.bench.widget_size
	$(BIN)/python -m tests.bench.tokens
	$(BIN)/python -m tests.bench.banner_paint
	$(BIN)/python -m tests.bench.campaigns --pg-url $(PG_TEST_URL)
	$(BIN)/python -m tests.bench.self_service --pg-url $(PG_TEST_URL)
	$(BIN)/python -m tests.bench.retention --pg-url $(PG_TEST_URL)
	$(BIN)/python -m tests.bench.scan

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache *.egg-info
