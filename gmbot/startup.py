"""Start-up checks shared by every process (manage.py, web, workers, beat, flower).

A process whose database, Redis or broker cannot be used refuses to start with one sentence that
names the variable and says what to do (a `ConfigError`), instead of a traceback or, worse,
starting and failing every request. Nothing here prints a password: places are described by
host, port, database and user only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from gmbot.env import ConfigError, env

logger = logging.getLogger(__name__)

_ROLE = re.compile(r'role "([^"]*)" does not exist')
_DATABASE = re.compile(r'database "([^"]*)" does not exist')
_RESOLVE = re.compile(r"resolve host|translate host name|Name or service not known")


def connection_sentence(error: BaseException) -> str | None:
    """The one sentence for a database that would not let us connect, saying what is wrong with
    DATABASE_URL; None for an error that is not about connecting (a failed query)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    text = str(error)
    if "sqlite" in str(db["ENGINE"]):
        if "unable to open database file" not in text:
            return None
        return (
            f"DATABASE_URL is unset, so GMBot uses SQLite at {db['NAME']}, which cannot be "
            f"opened ({text}): set DATABASE_URL to a PostgreSQL database."
        )
    host = db["HOST"] or "localhost"
    where = f"PostgreSQL at {host}:{db['PORT'] or 5432}"
    user, name = db["USER"] or "(none)", db["NAME"]
    if match := _ROLE.search(text):
        return (
            f"DATABASE_URL logs in as {match[1]}, a role {where} does not have: put an existing "
            f"role in DATABASE_URL (locally: postgres://postgres@127.0.0.1:5432/{name}) or "
            "create it with createuser."
        )
    if match := _DATABASE.search(text):
        return (
            f"DATABASE_URL names the database {match[1]}, which {where} does not have: create it "
            f"(createdb -h {host} -U {user} {match[1]}) "
            "or name one that exists."
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return f"DATABASE_URL: {where} refused the password of {user}: put the right one in it."
    if _RESOLVE.search(text):
        return f"DATABASE_URL names the host {db['HOST']}, which does not resolve: fix its host."
    if "Connection refused" in text or "timeout expired" in text:
        return (
            f"DATABASE_URL points at {where}, where nothing answers: start PostgreSQL "
            "(make services does) or point DATABASE_URL at a server that runs."
        )
    return None


def database_sentence(error: BaseException) -> str:
    """connection_sentence(), or for a refusal it does not know, the server's own first line."""
    sentence = connection_sentence(error)
    if sentence:
        return sentence
    from django.conf import settings

    db = settings.DATABASES["default"]
    text = str(error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    return (
        f"DATABASE_URL: PostgreSQL at {db['HOST'] or 'localhost'}:{db['PORT'] or 5432} refused "
        f"the connection ({first_line}): check DATABASE_URL."
    )


def _place(url: str) -> str:
    """host:port of a URL, without the credentials it may carry."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or ''}".rstrip(":")


def unreachable_sentence(variable: str, what: str, url: str, error: BaseException) -> str:
    """The one sentence for a Redis (or broker) named by `variable` that we cannot use."""
    text = str(error).lower()
    if _RESOLVE.search(str(error)):
        return f"{variable} names the host {urlsplit(url).hostname}, which does not resolve."
    if "password" in text or "authentication" in text or "access_refused" in text:
        return f"{variable}: {what} at {_place(url)} refused the password: put the right one in it."
    return (
        f"{variable} points at {what} at {_place(url)}, where nothing answers: start it "
        f"(make services does) or point {variable} at a server that runs."
    )


def check_database() -> None:
    """Connect once; a database we cannot use ends the process with its sentence."""
    from django.db import DatabaseError, connections

    connection = connections["default"]
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        raise ConfigError(database_sentence(exc)) from None
    finally:
        # A forking server (gunicorn, the prefork pool) must not hand this socket to its children.
        connection.close()


def check_redis() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        url = settings.REDIS_URL
        raise ConfigError(unreachable_sentence("REDIS_URL", "Redis", url, exc)) from None
    finally:
        client.close()


def check_broker() -> None:
    """The Celery broker: CELERY_BROKER_URL, or REDIS_URL when that is unset."""
    from gmbot.celery import app

    variable = "CELERY_BROKER_URL" if env("CELERY_BROKER_URL") else "REDIS_URL"
    url = str(app.conf.broker_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # kombu raises its transport's own errors
        raise ConfigError(unreachable_sentence(variable, "the broker", url, exc)) from None


def check_services() -> None:
    """What a web or worker process needs before it takes any work: settings, database, Redis
    and, when it is another server, the broker."""
    check_database()
    check_redis()
    if env("CELERY_BROKER_URL"):
        check_broker()


def warn_about_static_files() -> None:
    """With DEBUG off the admin's CSS and JS come from STATIC_ROOT, filled by collectstatic."""
    from django.conf import settings

    if not settings.DEBUG and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        logger.warning(
            "STATIC_ROOT (%s) holds no collected static files and DEBUG is off, so the admin "
            "answers 500: run python manage.py collectstatic --noinput before starting web",
            settings.STATIC_ROOT,
        )


@contextmanager
def in_one_sentence() -> Iterator[None]:
    """Turn a database or Redis that cannot be reached, wherever a command first touches it,
    into the sentence a start-up check would have said. Any other failure stays as it is."""
    import redis
    from django.db import OperationalError

    try:
        yield
    except OperationalError as exc:
        sentence = connection_sentence(exc)
        if sentence is None:
            raise
        raise ConfigError(sentence) from None
    except redis.ConnectionError as exc:
        from django.conf import settings

        url = settings.REDIS_URL
        raise ConfigError(unreachable_sentence("REDIS_URL", "Redis", url, exc)) from None
