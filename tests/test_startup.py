"""Every process refuses a configuration it cannot run with in one sentence that names the
variable and says what to do, with a non-zero exit status and no traceback: manage.py, web
(gunicorn), a worker, beat and flower."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, child_env, copy_of_the_checkout, free_port

MANAGE = [sys.executable, "manage.py", "showmigrations"]
WEB = [sys.executable, "-m", "gunicorn", "gmbot.wsgi:application", "--config", "gunicorn.conf.py"]
CELERY = [sys.executable, "-m", "celery", "-A", "gmbot"]
WORKER = [*CELERY, "worker", "-Q", "high", "--concurrency", "1", "--without-mingle"]
BEAT = [*CELERY, "beat", "--schedule", "/dev/null"]
FLOWER = [*CELERY, "flower", "--conf=flowerconfig.py"]


def nothing_listens() -> str:
    return f"127.0.0.1:{free_port()}"


def refusal(command: list[str], **env: str) -> str:
    """Run a process that must refuse to start; return the sentence it ended with."""
    result = subprocess.run(
        command, cwd=ROOT, env=child_env(WEB_BIND=nothing_listens(), **env),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    return result.stderr.strip().splitlines()[-1]


CASES = {
    "secret key": (
        MANAGE,
        {"DEBUG": "0", "SECRET_KEY": ""},
        "SECRET_KEY must be set when DEBUG is off: put a long random one in .env (python -c "
        '"import secrets; print(secrets.token_urlsafe(50))"), or set DEBUG=1 for local use.',
    ),
    "a number that is not": (
        MANAGE,
        {"DB_CONN_MAX_AGE": "soon"},
        "DB_CONN_MAX_AGE must be a whole number, not 'soon'.",
    ),
    "a token key that is not": (
        MANAGE,
        {"BOT_TOKEN_KEYS": "not-a-key"},
        "BOT_TOKEN_KEYS: key 1 is not a Fernet key (32 url-safe base64 bytes): make one with "
        'python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())".',
    ),
    "missing role": (
        MANAGE,
        {"DATABASE_URL": "postgres://gmbot@127.0.0.1:5432/gmbot"},
        "DATABASE_URL logs in as gmbot, a role PostgreSQL at 127.0.0.1:5432 does not have: put "
        "an existing role in DATABASE_URL (locally: postgres://postgres@127.0.0.1:5432/gmbot) "
        "or create it with createuser.",
    ),
    "missing database": (
        MANAGE,
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gmbot_nowhere"},
        "DATABASE_URL names the database gmbot_nowhere, which PostgreSQL at 127.0.0.1:5432 does "
        "not have: create it (createdb -h 127.0.0.1 -U postgres gmbot_nowhere) or name one that "
        "exists.",
    ),
    "web, missing role": (
        WEB,
        {"DATABASE_URL": "postgres://gmbot@127.0.0.1:5432/gmbot"},
        "DATABASE_URL logs in as gmbot, a role PostgreSQL at 127.0.0.1:5432 does not have: put "
        "an existing role in DATABASE_URL (locally: postgres://postgres@127.0.0.1:5432/gmbot) "
        "or create it with createuser.",
    ),
    "worker, secret key": (
        WORKER,
        {"DEBUG": "0", "SECRET_KEY": ""},
        "SECRET_KEY must be set when DEBUG is off: put a long random one in .env (python -c "
        '"import secrets; print(secrets.token_urlsafe(50))"), or set DEBUG=1 for local use.',
    ),
    "web, metrics addresses": (
        WEB,
        {"METRICS_ALLOWED_IPS": "10.0.0.0/8,10.0.0.300"},
        "METRICS_ALLOWED_IPS must list IP addresses or networks (10.0.0.0/8), comma-separated, "
        "or be *: '10.0.0.300' is neither.",
    ),
    "worker, Sentry DSN": (
        WORKER,
        {"SENTRY_DSN": "not-a-dsn"},
        "SENTRY_DSN is not a Sentry DSN: copy it from the Sentry project's settings "
        "(https://KEY@HOST/PROJECT), or leave it empty to turn Sentry off.",
    ),
    "flower, no login": (
        FLOWER,
        {"FLOWER_BASIC_AUTH": ""},
        "FLOWER_BASIC_AUTH must be user:password (a comma-separated list for several logins): "
        "Flower never runs without a login.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_setting_is_one_sentence_and_a_failed_start(case: str):
    command, env, sentence = CASES[case]
    assert refusal(command, **env) == sentence


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "variable"),
    [(MANAGE, "DATABASE_URL"), (WORKER, "DATABASE_URL"), (BEAT, "DATABASE_URL"),
     (WEB, "REDIS_URL"), (WORKER, "REDIS_URL"), (BEAT, "REDIS_URL"), (FLOWER, "REDIS_URL")],
)  # fmt: skip
def test_a_server_that_does_not_answer_is_one_sentence_and_a_failed_start(command, variable):
    place = nothing_listens()
    url = {
        "DATABASE_URL": f"postgres://postgres@{place}/gmbot",
        "REDIS_URL": f"redis://{place}/0",
    }[variable]
    what = "PostgreSQL" if variable == "DATABASE_URL" else "Redis"
    if command is FLOWER:
        what = "the broker"  # Flower needs Redis only as Celery's broker

    sentence = refusal(
        command, **{variable: url, "CELERY_BROKER_URL": "", "FLOWER_BASIC_AUTH": "ops:a-password"}
    )

    assert sentence.startswith(f"{variable} points at {what} at {place}, where nothing answers:")


def test_without_database_url_a_fresh_checkout_runs_on_sqlite(tmp_path: Path):
    # given a fresh checkout (no var/) and no DATABASE_URL
    checkout = copy_of_the_checkout(tmp_path / "gmbot")
    env = {k: v for k, v in child_env().items() if k not in {"DATABASE_URL", "ENV_FILE"}}

    # when its database is set up and asked about
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    # then SQLite in var/ took every migration
    assert migrate.returncode == 0, migrate.stderr
    assert (checkout / "var" / "gmbot.sqlite3").is_file()
    shown = subprocess.run(
        [sys.executable, "manage.py", "showmigrations", "--plan"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "[ ]" not in shown.stdout and "[X]" in shown.stdout
    assert os.listdir(checkout / "var") == ["gmbot.sqlite3"]


def test_a_failed_query_is_not_mistaken_for_a_database_that_cannot_be_reached():
    from django.db import OperationalError

    from gmbot.env import ConfigError
    from gmbot.startup import in_one_sentence

    with pytest.raises(OperationalError, match="canceling statement"), in_one_sentence():
        raise OperationalError("canceling statement due to statement timeout")
    with (
        pytest.raises(ConfigError, match=r"^DATABASE_URL logs in as ghost, a role"),
        in_one_sentence(),
    ):
        raise OperationalError('connection failed: FATAL:  role "ghost" does not exist')
