"""Deduplication when Redis cannot do it, and the claim given back when the broker refuses (W2, W4).

These run the webhook in-process with a broker that is not the dedup Redis, the configuration
in which the PostgreSQL fallback applies (with one Redis for both, Redis down means 503).
"""

from __future__ import annotations

import json

import pytest
import redis

from apps.bots.services import forget_cached_bots
from apps.ingress import publish
from apps.ingress.models import SeenUpdate
from gmbot import redis as gmbot_redis
from gmbot.celery import app as celery_app
from tests.conftest import free_port
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

SECRET = "fallback-test-secret"


@pytest.fixture
def bot():
    forget_cached_bots()
    return BotFactory(webhook_secret=SECRET)


@pytest.fixture
def broker(redis_client):
    """The live test Redis, seen as the broker only."""
    return redis.Redis.from_url(celery_app.conf.broker_url)


@pytest.fixture
def dedup_redis_down(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    _reset_clients()
    yield
    _reset_clients()


@pytest.fixture
def broker_down(monkeypatch):
    # A new pool for the dead broker; the app's own pool is put back untouched afterwards.
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    publish._broker_is_dedup_redis.cache_clear()
    yield
    celery_app.pool.force_close_all()
    publish._broker_is_dedup_redis.cache_clear()


def _reset_clients() -> None:
    gmbot_redis.reset_connections()
    publish._broker_is_dedup_redis.cache_clear()
    publish._claim_and_push.cache_clear()


def post(client, update_id: int):
    update = {"update_id": update_id, "message": {"message_id": 1, "date": 1, "text": "hi",
              "chat": {"id": 5, "type": "private", "first_name": "A"}}}  # fmt: skip
    return client.post("/api/webhooks/telegram", data=json.dumps(update),
                       content_type="application/json",
                       HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)  # fmt: skip


def test_with_redis_down_postgresql_deduplicates_and_the_job_still_goes_out(
    client, bot, broker, dedup_redis_down
):
    for _ in range(3):
        assert post(client, 31).status_code == 200

    assert broker.llen("high") == 1
    assert SeenUpdate.objects.filter(bot_id=bot.pk, update_id=31).count() == 1


def test_when_the_broker_refuses_the_claim_is_given_back_and_telegram_told_to_retry(
    client, bot, redis_client, broker_down
):
    assert post(client, 32).status_code == 503
    assert not redis_client.exists(publish.seen_key_for(bot.pk, 32))
