# GMBot. `make demo` shows the product working against the sandbox; `make test` runs every check.
# Both create .venv and install what they need. Settings come from the environment, then .env
# (written from .env.example when missing: its values are the local ones). make itself never
# reads .env; the Python processes do (gmbot/env.py), so a value means the same to all of them.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# The tests get their own Redis database and their own PostgreSQL database (test_gmbot_<pid>),
# and read no .env (ENV_FILE=/dev/null), so they never touch or depend on a local stack.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := ENV_FILE=/dev/null DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/gmbot \
	REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL= CELERY_RESULT_BACKEND= \
	TELEGRAM_API_URL= SECRET_KEY= BOT_TOKEN_KEYS=

.PHONY: help venv services browser migrate test lint format type up down status demo createsuperuser \
	bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "%-16s %s\n", $$1, $$2 }'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Only when missing: an existing .env is the user's and is never overwritten.
.env:
	cp .env.example .env
	@echo "wrote .env from .env.example (local settings; edit it to change them)"

venv: $(VENV)/.installed ## create .venv and install the pinned packages

services: ## make sure PostgreSQL and Redis answer, and the database exists
	bin/services.sh gmbot

browser: ## Debian's chromium for the browser tests, installed with apt-get when missing
	bin/services.sh --browser

migrate: .env venv services ## apply migrations to the local database
	$(PY) manage.py migrate --verbosity 0

test: venv services browser ## lint, then the whole test suite on real PostgreSQL and Redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p var
	env $(TEST_ENV) $(BIN)/pytest --junitxml=var/test-results.xml $(PYTEST_ARGS)

lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

type: venv ## mypy with django-stubs, on the files pyproject.toml lists
	env $(TEST_ENV) $(BIN)/mypy  # django-stubs loads the settings: the tests' environment

up: migrate ## start the sandbox, web, three workers, beat and flower in the background
	$(PY) manage.py localadmin
	$(PY) bin/stack.py up

down: ## stop everything `make up` started
	$(PY) bin/stack.py down

status: ## what is running
	$(PY) bin/stack.py status

demo: up ## the stack plus a scripted demonstration against the sandbox
	$(PY) bin/demo.py
	@$(PY) bin/stack.py where

createsuperuser: migrate ## another login for the admin site
	$(PY) manage.py createsuperuser

bench: venv services ## run every benchmark; each prints its figures (bench/_*.py are helpers)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean: down ## stop the stack and remove var/ and the tools' caches (not .venv, not .env)
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
