"""Bodies and clients that are not what Telegram sends (issue 10, item 6)."""

from __future__ import annotations

import json

import pytest
import requests

from apps.bots.services import forget_cached_bots
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/webhooks/telegram"
SECRET = "secret-for-the-abuse-tests"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def bot():
    forget_cached_bots()
    yield BotFactory(webhook_secret=SECRET)
    forget_cached_bots()


def update(update_id: int, text: str = "hi") -> bytes:
    message = {"message_id": 1, "date": 0, "text": text, "chat": {"id": 42, "type": "private"}}
    return json.dumps({"update_id": update_id, "message": message}).encode()


def post(client, body: bytes):
    return client.post(WEBHOOK, data=body, content_type="application/json",
                       HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)  # fmt: skip


@pytest.mark.parametrize("depth", [100_000, 990, 101])
def test_a_body_nested_too_deeply_is_refused_with_400_and_nothing_queued(
    client, redis_client, depth
):
    # 100,000 levels overflow the parser; 990 parse here but not in a worker's deeper stack
    body = b'{"update_id":1,"message":' + b"[" * depth + b"]" * depth + b"}"

    answer = post(client, body)

    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error": "the body nests too deeply"}
    assert redis_client.llen("high") == 0


def test_a_body_nested_as_deeply_as_telegram_nests_is_queued(client, redis_client):
    body = b'{"update_id":1,"message":' + b"[" * 90 + b"]" * 90 + b"}"

    assert post(client, body).status_code == 200
    assert redis_client.llen("high") == 1


def chunks(body: bytes, size: int = 1000):
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_without_a_length_is_read_and_queued(start_web, redis_client):
    web = start_web()

    answer = requests.post(f"{web.url}{WEBHOOK}", data=chunks(update(7, "x" * 5000)),
                           headers=HEADERS, timeout=10)  # fmt: skip

    assert answer.status_code == 200
    assert redis_client.llen("high") == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_cap_is_refused_with_413(start_web, redis_client):
    web = start_web()

    answer = requests.post(f"{web.url}{WEBHOOK}", data=chunks(update(8, "x" * 1_100_000), 65536),
                           headers=HEADERS, timeout=10)  # fmt: skip

    assert answer.status_code == 413
    assert redis_client.llen("high") == 0
