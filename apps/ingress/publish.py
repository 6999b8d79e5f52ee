"""Claim an update once and hand it to its queue (SPEC W2, W4).

With the usual setup (the broker is the same Redis as REDIS_URL) one Lua script claims the
`(bot, update_id)` key and pushes the job in a single round trip: either both happen or neither.
The job is an ordinary Celery task message, built by Celery's own `as_task_v2` and wrapped the way
kombu's Redis transport wraps it, so workers, retries and Flower treat it like any other.

With another broker (RabbitMQ, a separate Redis) the claim is taken first (Redis, or PostgreSQL
when Redis is down), then the job is published with `apply_async`; if publishing fails the claim
is released, so Telegram's redelivery is processed rather than dropped as a duplicate.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import redis
from celery.signals import before_task_publish
from django.conf import settings
from django.db import DatabaseError

from apps.bots.services import BotRef
from apps.ingress import ordering, sealing
from apps.ingress.models import SeenUpdate
from apps.ingress.routing import Route
from gmbot import claims
from gmbot.celery import app as celery_app
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# KEYS: the dedup key, the queue, and the chat's line (apps/ingress/ordering.py) when the update
# has a chat. ARGV: the dedup TTL, the job, the update id.
_CLAIM_AND_PUSH = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
    if KEYS[3] then
        redis.call('RPUSH', KEYS[3], ARGV[3])
        redis.call('EXPIRE', KEYS[3], ARGV[1])
    end
    redis.call('LPUSH', KEYS[2], ARGV[2])
    return 1
end
return 0
"""


class QueueUnavailable(Exception):
    """The job could not be queued; nothing was claimed, so a redelivery will be processed."""


def seen_key_for(bot_id: int, update_id: int) -> str:
    return f"gmbot:seen:{bot_id}:{update_id}"


@cache
def _broker_is_dedup_redis() -> bool:
    broker, dedup = urlsplit(celery_app.conf.broker_url), urlsplit(settings.REDIS_URL)
    same_db = (broker.path.strip("/") or "0") == (dedup.path.strip("/") or "0")
    return broker.scheme in {"redis", "rediss"} and broker.netloc == dedup.netloc and same_db


@cache
def _claim_and_push() -> Any:
    return get_redis().register_script(_CLAIM_AND_PUSH)


_ORIGIN = f"gmbot-web:{os.getpid()}@{socket.gethostname()}"


def celery_message(task_name: str, queue: str, args: list[Any], argsrepr: str) -> str:
    """A Celery protocol-2 task message in kombu's Redis envelope, as `apply_async` would push.

    `argsrepr` is what Flower and the logs show instead of the arguments (no message text there).
    Receivers of `before_task_publish` add their headers as they would to apply_async's (the
    log context django-structlog carries over to the worker).
    """
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = celery_app.amqp.as_task_v2(
        task_id, task_name, args=tuple(args), kwargs={}, root_id=task_id, origin=_ORIGIN,
        ignore_result=True, argsrepr=argsrepr, kwargsrepr="{}",
    )  # fmt: skip
    before_task_publish.send(
        sender=task_name, body=body, exchange="", routing_key=queue, headers=headers,
        properties=properties, declare=[], retry_policy=None,
    )  # fmt: skip
    payload = json.dumps(body, separators=(",", ":")).encode()
    return json.dumps(
        {
            "body": base64.b64encode(payload).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                **properties,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        },
        separators=(",", ":"),
    )


def enqueue_update(bot: BotRef, update: dict[str, Any], route: Route) -> bool:
    """Queue the update's job unless this (bot, update_id) was queued before.

    Returns False for a duplicate delivery. Raises QueueUnavailable when the job cannot be queued.
    """
    update_id = update["update_id"]
    # An update holding a bot token is queued encrypted (sealing.py); dedup and routing
    # read the update itself.
    args = [bot.id, sealing.sealed(update)]
    argsrepr = f"(bot={bot.id}, update_id={update_id})"
    ttl = settings.WEBHOOK_DEDUP_SECONDS
    if _broker_is_dedup_redis():
        message = celery_message(route.task, route.queue, args, argsrepr)
        line = ordering.line_for(bot.id, bot.telegram_id, update)
        keys = [seen_key_for(bot.id, update_id), route.queue, *([line] if line else [])]
        try:
            pushed = _claim_and_push()(keys=keys, args=[ttl, message, update_id])
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis: {exc}") from exc
        return bool(pushed)

    release = _claim(bot, update_id, ttl)
    if release is None:
        return False
    try:
        celery_app.send_task(
            route.task, args=args, queue=route.queue, argsrepr=argsrepr, retry=False
        )
    except Exception as exc:
        release()
        raise QueueUnavailable(f"broker: {exc}") from exc
    return True


def _claim(bot: BotRef, update_id: int, ttl: int) -> Callable[[], object] | None:
    """Claim the update in Redis, or in PostgreSQL when Redis is down. Returns a release function,
    or None when the update was claimed before."""
    key = seen_key_for(bot.id, update_id)
    try:
        if not claims.take(key, ttl):
            return None
        # A dedup key left behind makes Telegram's redelivery look like a duplicate: an error.
        note = "ingress: could not release dedup key after a failed publish"
        return lambda: claims.release(key, note=note, level=logging.ERROR)
    except redis.RedisError:
        logger.warning("ingress: Redis unavailable, deduplicating update in PostgreSQL")
    try:
        seen, created = SeenUpdate.objects.get_or_create(bot_id=bot.id, update_id=update_id)
    except DatabaseError as exc:
        raise QueueUnavailable(f"neither Redis nor PostgreSQL can deduplicate: {exc}") from exc
    return seen.delete if created else None
