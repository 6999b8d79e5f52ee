"""The webhook's answers to every kind of input, good and bad (SPEC W1-W3)."""

from __future__ import annotations

import json

import pytest

from apps.bots.services import forget_cached_bots
from apps.ingress import routing
from apps.ingress.stats import unrouted_counts
from tests.data import UPDATES_DIR
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/telegram"
SECRET = "s3cret-for-the-webhook_tests"
UPDATES = UPDATES_DIR


@pytest.fixture(autouse=True)
def _fresh_cache():
    forget_cached_bots()
    yield
    forget_cached_bots()


@pytest.fixture
def bot():
    return BotFactory(webhook_secret=SECRET)


def post(client, body, secret=SECRET, **headers):
    if secret is not None:
        headers["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = secret
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def queued(redis_client) -> int:
    return sum(redis_client.llen(queue) for queue in ("high", "normal", "low"))


def private_message(update_id: int, text: str = "/help") -> dict:
    user = {"id": 42, "is_bot": False, "first_name": "Ann"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": 1700000000, "text": text, "from": user,
            "chat": {"id": 42, "type": "private", "first_name": "Ann"},
        },
    }  # fmt: skip


def test_a_valid_update_is_answered_200_and_queued_once_on_high(client, bot, redis_client):
    answer = post(client, private_message(1))

    assert answer.status_code == 200
    assert redis_client.llen("high") == 1
    assert queued(redis_client) == 1


def test_a_repeated_delivery_is_answered_200_and_not_queued_again(client, bot, redis_client):
    for _ in range(3):
        assert post(client, private_message(7)).status_code == 200

    assert queued(redis_client) == 1


def test_the_same_update_id_from_two_bots_is_two_updates(client, bot, redis_client):
    other = BotFactory(webhook_secret="another-bots-secret")
    post(client, private_message(9))
    post(client, private_message(9), secret="another-bots-secret")

    assert queued(redis_client) == 2
    assert other.pk != bot.pk


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong-secret", "x" * 300, "sécret-non-ascii", SECRET + " ", SECRET[:-1]],
    ids=["missing", "empty", "wrong", "too-long", "non-ascii", "trailing-space", "truncated"],
)
def test_an_unknown_or_missing_secret_is_401_and_nothing_is_queued(
    client, bot, redis_client, secret
):
    answer = post(client, private_message(2), secret=secret)

    assert answer.status_code == 401
    assert queued(redis_client) == 0


def test_an_inactive_bot_is_not_served(client, redis_client):
    BotFactory(webhook_secret=SECRET, is_active=False)

    assert post(client, private_message(3)).status_code == 401
    assert queued(redis_client) == 0


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'{"update_id": 1, "message": {', "not JSON"),
        (b"\xff\xfe not utf-8", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"update_id": "12"}', "update_id"),
        (b'{"update_id": -1}', "update_id"),
        (b'{"update_id": true}', "update_id"),
        (b'{"message": {}}', "update_id"),
        (b"", "not JSON"),
    ],
    ids=["truncated", "binary", "array", "string-id", "negative-id", "bool-id", "no-id", "empty"],
)
def test_a_malformed_body_is_400_with_a_reason(client, bot, redis_client, body, reason):
    answer = post(client, body)

    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert queued(redis_client) == 0


def test_a_body_over_one_mebibyte_is_413(client, bot, redis_client):
    update = private_message(4, text="x" * (5 * 1024 * 1024))

    answer = post(client, update)

    assert answer.status_code == 413
    assert queued(redis_client) == 0


def test_only_post_is_accepted(client, bot):
    for method in (client.get, client.put, client.delete):
        answer = method(URL, HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)
        assert answer.status_code == 405
        assert answer["Allow"] == "POST"


def test_an_unknown_update_kind_is_answered_counted_and_not_queued(client, bot, redis_client):
    update = {"update_id": 5, "message_reaction": {"chat": {"id": 1, "type": "private"}}}

    answer = post(client, update)

    assert answer.status_code == 200
    assert queued(redis_client) == 0
    assert unrouted_counts() == {"message_reaction": 1}


def test_the_real_payloads_are_there_to_be_tested():
    # shared/ sits beside the checkout; without it the test below would silently test nothing
    assert len(list(UPDATES.glob("*.json"))) >= 30


@pytest.mark.parametrize("path", sorted(UPDATES.glob("*.json")), ids=lambda p: p.stem)
def test_every_real_telegram_payload_is_answered_200(client, bot, redis_client, path):
    update = json.loads(path.read_text())

    answer = post(client, update)

    assert answer.status_code == 200
    expected = 1 if routing.route(update) else 0
    assert queued(redis_client) == expected
