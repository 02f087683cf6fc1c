# 青鹤 Qinghe — every target installs what it needs first. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
MANAGE := $(PYTHON) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
VENDOR := static/vendor

.DEFAULT_GOAL := help
.PHONY: help system install assets migrate reference demo run worker deliver scheduler backup restore backup-drill prod-smoke stack-packages loadtest drills test test-fast fuzz e2e browser fonts screenshots lint format typecheck bench growth clean check-deploy messages embeddings

help: ## list every target
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/.copied: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/echarts $(VENDOR)/htmx $(VENDOR)/jsqr $(VENDOR)/hls
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/bootstrap/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/jsqr/dist/jsQR.js $(VENDOR)/jsqr/
	cp node_modules/hls.js/dist/hls.light.min.js node_modules/hls.js/dist/hls.light.min.js.map $(VENDOR)/hls/
	@touch $@

install: system $(VENV)/.installed assets ## create .venv and install Python and front-end dependencies

assets: $(VENDOR)/.copied ## install front-end packages with npm and copy them to static/vendor

migrate: install ## apply database migrations (SQLite at var/qinghe.sqlite3 unless DATABASE_URL)
	@mkdir -p var
	$(MANAGE) migrate --noinput

reference: migrate ## load reference data (idempotent)
	$(MANAGE) load_reference

demo: reference ## load the demo data set and print the demo accounts (idempotent)
	$(MANAGE) seed_demo

run: demo ## install, migrate, load data, start the workers and the scheduler and serve http://127.0.0.1:8000
	@echo "Serving http://$(HOST):$(PORT)/ (task worker, outbox worker and scheduler beside it; Ctrl-C stops all)"
	@$(MANAGE) db_worker --no-startup-delay & WORKER=$$!; \
	$(MANAGE) deliver_outbox & DELIVERY=$$!; \
	$(MANAGE) run_scheduler & SCHEDULER=$$!; \
	trap "kill $$WORKER $$DELIVERY $$SCHEDULER 2>/dev/null" EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT) --noreload

worker: migrate ## run the background worker alone
	$(MANAGE) db_worker

deliver: migrate ## run the outbox delivery worker alone (retries, safe to kill)
	$(MANAGE) deliver_outbox

scheduler: migrate ## run the scheduler alone (periodic jobs of qinghe/scheduler/schedule.py)
	$(MANAGE) run_scheduler

backup: install ## back up PostgreSQL (pg_dump) and the media files to var/backups/ (OUT=dir to choose; never the keys)
	$(MANAGE) backup $(if $(OUT),--output $(OUT))

restore: install ## restore a backup: make restore BACKUP=var/backups/qinghe-<time> (replaces the database and media; asks first)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/qinghe-<time>"; exit 2; }
	$(MANAGE) restore $(BACKUP)

backup-drill: install ## back up, destroy, restore and compare 100,000 talents on PostgreSQL; prints the times (ROWS=n)
	@.ci/postgres.sh && export BENCH_PG_URL=$${BENCH_PG_URL:-postgres://qinghe:qinghe@127.0.0.1:5432/postgres}; \
	$(PYTHON) bench/backup_drill.py --rows $${ROWS:-100000}

stack-packages: ## install Debian's nginx-light, redis-server and openssl when missing (for prod-smoke, loadtest, drills)
	@command -v nginx >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light redis-server openssl >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light redis-server openssl >/dev/null; fi; }

prod-smoke: install assets browser stack-packages ## the production stack here (nginx+TLS, gunicorn/uvicorn, PostgreSQL, Redis, workers, scheduler), a browser journey over HTTPS, then stop all
	@.ci/postgres.sh
	$(PYTHON) scripts/prod_smoke.py

loadtest: install assets stack-packages ## Locust against the production stack on a private PostgreSQL: 100,000 talents, 20,000 postings (prepared once, kept in var/loadtest/), 100 users during a 100,000-row import (USERS=, SECONDS=)
	$(PYTHON) bench/loadtest.py --users $(or $(USERS),100) --seconds $(or $(SECONDS),60)

drills: install assets browser stack-packages ## fault drills: PostgreSQL restarted during an import and under load, outbox and task workers killed (the reaper re-runs the task), Redis restarted under live websockets, the disk full during an upload (private PostgreSQL; DRILL=6 runs one)
	$(PYTHON) bench/fault_drills.py $(if $(DRILL),--only $(DRILL))

browser: ## install Debian's Chromium (and ffmpeg, for the fake camera of the QR-scan test) when missing
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@command -v ffmpeg >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; fi; }

system: ## install Debian's Pango and a Chinese font when missing (the monthly PDF report, WeasyPrint)
	@{ ldconfig -p | grep -q libpangoft2-1.0 && fc-list :lang=zh | grep -q .; } 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei fontconfig >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei fontconfig >/dev/null; fi; }

fonts: ## install a Chinese font (Debian's fonts-wqy-microhei) when none is present, for screenshots
	@fc-list :lang=zh | grep -q . || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; fi; }

screenshots: install browser fonts ## PNGs of every demo role's 工作台 (1280x800 and 390x844) into var/screenshots/
	$(PYTHON) scripts/screenshots.py

test: install browser ## run the whole test suite (unit, integration, browser)
	$(MANAGE) makemigrations --check --dry-run --settings=config.settings.test
	$(BIN)/pytest -p no:cacheprovider -n 2 --dist loadfile
	@# The tests of two connections at once (an import's chunks overlapping) again on an
	@# SQLite database file, as deployed (the suite's SQLite is in memory).
	@if [ -z "$$DATABASE_URL" ]; then rm -f var/test-file.sqlite3*; \
	  TEST_SQLITE_PATH=var/test-file.sqlite3 $(BIN)/pytest -p no:cacheprovider \
	  qinghe/talents/tests/test_import_overlap.py tests/integration/test_import_transactions.py; \
	  rm -f var/test-file.sqlite3*; fi

test-fast: install ## run the suite without browser tests or the API fuzzer
	$(BIN)/pytest -p no:cacheprovider -n 2 -m "not e2e and not fuzz"

fuzz: install ## schemathesis against the OpenAPI schema as three roles (a few minutes)
	$(BIN)/pytest -p no:cacheprovider -m fuzz

e2e: install browser ## run only the browser tests in Chromium
	$(BIN)/pytest -p no:cacheprovider -m e2e

lint: install ## ruff lint and format check, and the missing-migration check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run --settings=config.settings.test

format: install ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install ## mypy with django-stubs
	$(BIN)/mypy qinghe config

check-deploy: install ## Django's deployment checklist under production settings (SMS_* from the environment, else placeholders)
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	FIELD_ENCRYPTION_KEY=$$(head -c 32 /dev/urandom | base64) BLIND_INDEX_KEY=$$(head -c 32 /dev/urandom | base64) \
	DATABASE_URL=sqlite:///var/deploy-check.sqlite3 ALLOWED_HOSTS=qinghe.example.gov.cn \
	QINGHE_CARD_SIGNING_KEYS="$$(DJANGO_SETTINGS_MODULE=config.settings.dev $(MANAGE) new_signing_key deploy-check-card)" \
	QINGHE_EVENT_SIGNING_KEYS="$$(DJANGO_SETTINGS_MODULE=config.settings.dev $(MANAGE) new_signing_key deploy-check-event)" \
	SMS_SENDER=$${SMS_SENDER:-qinghe.accounts.sms.AliyunSmsSender} \
	NOTIFY_SMS_ACCESS_KEY_ID=$${NOTIFY_SMS_ACCESS_KEY_ID:-placeholder-key-id} \
	NOTIFY_SMS_ACCESS_KEY_SECRET=$${NOTIFY_SMS_ACCESS_KEY_SECRET:-placeholder-secret} \
	NOTIFY_SMS_CODE_TEMPLATE_CODE=$${NOTIFY_SMS_CODE_TEMPLATE_CODE:-SMS_PLACEHOLDER} \
	$(PYTHON) manage.py check --deploy --fail-level WARNING

messages: install ## refresh and compile the English translations (needs GNU gettext)
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=node_modules --ignore=var --ignore=bench --ignore=tests -v0
	$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v0

bench: install ## run the benchmarks under bench/ on SQLite and PostgreSQL and print the figures (the growth curves are `make growth`)
	@.ci/postgres.sh && export BENCH_PG_URL=$${BENCH_PG_URL:-postgres://qinghe:qinghe@127.0.0.1:5432/qinghe_bench}; \
	$(PYTHON) bench/run.py

growth: install ## growth curves at 10k, 100k and 1M talents on PostgreSQL: import, recompute, search, board (about an hour; not in `make bench`; SIZES=, IMPORT_SIZES=)
	@.ci/postgres.sh && export BENCH_PG_URL=$${GROWTH_PG_URL:-postgres://qinghe:qinghe@127.0.0.1:5432/qinghe_growth}; \
	$(PYTHON) bench/bench_growth.py $(if $(SIZES),--sizes $(SIZES)) $(if $(IMPORT_SIZES),--import-sizes $(IMPORT_SIZES))

embeddings: install ## rebuild qinghe/matching/data/e5_catalog.npz (the catalog's sentence vectors, about 80 s)
	$(MANAGE) build_embeddings

clean: ## remove the virtualenv, node_modules, copied assets and local data
	rm -rf $(VENV) node_modules $(VENDOR) var
