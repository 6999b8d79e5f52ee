# GMBot. `make demo` shows the product working against the sandbox; `make test` runs every check.
# Both create .venv and install what they need. Settings come from the environment, then .env,
# then the local defaults below (see .env.example for every variable).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

-include .env

# Local stack defaults: PostgreSQL and Redis on this machine, Telegram replaced by the sandbox.
export DEBUG ?= 1
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/gmbot
export REDIS_URL ?= redis://127.0.0.1:6379/0
export SANDBOX_PORT ?= 8081
export WEB_PORT ?= 8000
export FLOWER_PORT ?= 5555
export TELEGRAM_API_URL ?= http://127.0.0.1:$(SANDBOX_PORT)
export FLOWER_BASIC_AUTH ?= admin:gmbot-local

# The tests get their own Redis database and their own PostgreSQL database (test_gmbot),
# so they never touch a running local stack.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/gmbot \
	REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL= CELERY_RESULT_BACKEND= \
	TELEGRAM_API_URL= SECRET_KEY= BOT_TOKEN_KEYS=

.PHONY: help venv services migrate test lint format type up down status demo createsuperuser \
	bench clean

help:
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create .venv and install the pinned packages

services: ## make sure PostgreSQL and Redis answer, and the database exists
	bin/services.sh gmbot

migrate: venv services ## apply migrations to the local database
	$(PY) manage.py migrate --verbosity 0

test: venv services ## lint, then the whole test suite on real PostgreSQL and Redis
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
	$(BIN)/mypy

up: migrate ## start the sandbox, web, three workers, beat and flower in the background
	$(PY) bin/stack.py up

down: ## stop everything `make up` started
	$(PY) bin/stack.py down

status: ## what is running
	$(PY) bin/stack.py status

demo: up ## the stack plus a scripted demonstration against the sandbox
	$(PY) bin/demo.py

createsuperuser: migrate ## a login for the admin site
	$(PY) manage.py createsuperuser

bench: venv services ## run every benchmark; each prints its figures (bench/_*.py are helpers)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean: down
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
