"""PostgreSQL drops the web process's connections, or goes away for a while (issue 10, item 1).

Real gunicorn (one worker, so every request meets the same connection) reaches the test database
through a TCP proxy of the test's own: `pg_terminate_backend` drops the web's connections the way
a restart does, and the proxy refusing connections stands for PostgreSQL being down.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from django.db import connection

from tests.conftest import WebProcess, wait_until
from tests.factories import BotFactory
from tests.faults.proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WEBHOOK = "/api/webhooks/telegram"
CACHED = "secret-the-web-has-looked-up"
FRESH = "secret-the-web-has-not-seen-yet"


@pytest.fixture
def db_proxy() -> Iterator[TcpProxy]:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.stop()


@pytest.fixture
def web(start_web, db_proxy: TcpProxy) -> WebProcess:
    BotFactory(webhook_secret=CACHED)
    BotFactory(webhook_secret=FRESH)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@127.0.0.1:{db_proxy.port}/{db['NAME']}"
    web = start_web(DATABASE_URL=url, WEB_CONCURRENCY="1")
    assert post(web, CACHED, 1) == 200  # the web process now holds a database connection
    return web


def post(web: WebProcess, secret: str, update_id: int) -> int:
    update = {"update_id": update_id, "message": {"message_id": 1, "date": 0, "text": "hi",
              "chat": {"id": 42, "type": "private"}}}  # fmt: skip
    answer = requests.post(f"{web.url}{WEBHOOK}", data=json.dumps(update), timeout=10,
                           headers={"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
    return answer.status_code


def ready(web: WebProcess) -> int:
    return requests.get(f"{web.url}/ready", timeout=10).status_code


def terminate_other_connections() -> None:
    """Drop every connection to this test's own database but the test's: the web's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
        )


def test_after_postgresql_dropped_the_webs_connections_new_secrets_are_checked_again(
    web, redis_client
):
    terminate_other_connections()

    # a secret the web has not cached needs the database: the dropped connection is replaced
    assert [post(web, FRESH, n) for n in (2, 3, 4)] == [200, 200, 200]
    assert redis_client.llen("high") == 4


def test_while_postgresql_is_down_unchecked_secrets_get_503_and_all_recovers_when_it_is_back(
    web, db_proxy, redis_client
):
    # when PostgreSQL goes away
    db_proxy.refuse()

    # then a secret that cannot be checked is answered 503 (Telegram delivers it again), one
    # already checked still queues, and the web process says it is not ready
    assert post(web, FRESH, 2) == 503
    assert post(web, CACHED, 3) == 200
    assert ready(web) == 503

    # when PostgreSQL is back, the same delivery is accepted within seconds, without a restart
    db_proxy.restore()
    wait_until(lambda: post(web, FRESH, 2) == 200, timeout=5, interval=0.5)
    assert ready(web) == 200
    assert redis_client.llen("high") == 3
