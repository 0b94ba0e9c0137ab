# The front door: `make run` (the whole site locally), `make superuser` (a staff account for
# /admin/), `make test`, `make bench`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Firebase web SDK's copy in the static files (see its rule below).
FIREBASE_SDK := static/vendor/firebase/.installed
# This machine keeps a CPU build of torch here; elsewhere pip takes torch from PyPI.
PIP_FIND_LINKS_FLAG := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: run superuser test lint bench firebase-sdk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt requirements-worker.txt | $(BIN)/python
	$(BIN)/pip install --quiet $(PIP_FIND_LINKS_FLAG) -r requirements-worker.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(BIN)/pip install --quiet $(PIP_FIND_LINKS_FLAG) -r requirements-dev.txt
	touch $@

# `make run` builds the Firebase SDK only for a site that configures Firebase sign-in.
run: $(VENV)/.run-installed $(if $(FIREBASE_PROJECT_ID),$(FIREBASE_SDK))
	scripts/run

# On the database `make run` uses, with its local default DJANGO_DEBUG=true (so no secret key is
# needed); migrated first, so it works before the site has ever run. ARGS are passed on:
# DJANGO_SUPERUSER_PASSWORD=... make superuser ARGS="--noinput --username admin --email a@b.c"
superuser: export DJANGO_DEBUG ?= true
superuser: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py createsuperuser $(ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SECRET_KEY=type-checking-only $(BIN)/mypy .
	$(BIN)/lint-imports

# The Firebase web SDK the sign-in page loads, served by the site itself: the npm package pinned
# in firebase-sdk/package-lock.json, its two browser modules copied into static/vendor/firebase/
# (git-ignored), with firebase-auth.js importing its sibling instead of Google's CDN. Only Firebase
# sign-in needs it; a site with FIREBASE_JS_SDK_URL loads the SDK from there instead.
firebase-sdk: $(FIREBASE_SDK)
$(FIREBASE_SDK): firebase-sdk/package.json firebase-sdk/package-lock.json scripts/firebase-sdk
	command -v npm >/dev/null || scripts/system-packages nodejs npm
	scripts/firebase-sdk $(@D)
	touch $@

# What the browser tests load into pages (axe-core), from testing/package-lock.json.
testing/node_modules/.installed: testing/package.json testing/package-lock.json
	command -v npm >/dev/null || scripts/system-packages nodejs npm
	npm ci --prefix testing --silent --no-audit --no-fund
	touch $@

test: lint testing/node_modules/.installed $(FIREBASE_SDK)
	scripts/system-packages redis-server postgresql chromium fonts-liberation
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench
