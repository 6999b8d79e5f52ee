"""The webhook's decision, independent of how the request arrived (SPEC W1-W4).

`receive()` authenticates, validates, routes, claims and queues an update, and says what to
answer. It makes no Telegram call and no ORM query beyond the cached secret → bot lookup. Two thin
adapters call it: the Django view (`views.py`, for the test client and `runserver`) and the lean
WSGI app (`wsgi.py`) that gunicorn serves the hot path with, skipping middleware and URL resolving.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings

from apps.bots.services import BotLookupUnavailable, bot_for_webhook_secret
from apps.ingress import publish, routing, stats
from gmbot import metrics

logger = logging.getLogger(__name__)


class Answer(NamedTuple):
    status: int
    reason: str | None = None  # why a request was refused; None when accepted

    def body(self) -> bytes:
        if self.reason is None:
            return b'{"ok":true}'
        return json.dumps({"ok": False, "error": self.reason}).encode()


OK = Answer(200)

# Telegram's updates nest about ten levels deep. A body that nests far deeper is no update, and
# whether it even parses depends on how deep the stack already is: the worker that decodes the
# job next would fail on what parsed here.
MAX_DEPTH = 100


def receive(
    method: str, secret: str | None, content_length: str | None, read: Callable[[int], bytes]
) -> Answer:
    """Decide what to answer, counted by status and timed for /metrics."""
    started = time.perf_counter()
    answer = _decide(method, secret, content_length, read)
    metrics.webhook_answered(answer.status, time.perf_counter() - started)
    return answer


def _decide(
    method: str, secret: str | None, content_length: str | None, read: Callable[[int], bytes]
) -> Answer:
    if method != "POST":
        return Answer(405, "only POST is accepted")

    try:
        bot = bot_for_webhook_secret(secret)
    except BotLookupUnavailable as exc:
        # Neither 401 (it may be a good secret) nor 500: Telegram delivers it again later.
        logger.error("ingress: cannot check a webhook secret: %s", exc)
        return Answer(503, "cannot check the secret token now, deliver again later")
    if bot is None:
        return Answer(401, "unknown or missing secret token")

    limit = settings.WEBHOOK_MAX_BODY_BYTES
    if content_length:
        try:
            declared = int(content_length)
        except ValueError:
            return Answer(400, "invalid Content-Length")
        if declared > limit:
            return Answer(413, f"body over {limit} bytes")  # refused before reading any of it
        body = read(min(declared, limit + 1))
    else:
        # No length: a chunked body, which the server ends for us. One byte past the cap tells
        # a body that is too large.
        body = read(limit + 1)
    if len(body) > limit:
        return Answer(413, f"body over {limit} bytes")

    try:
        update = json.loads(body)
    except RecursionError:
        return Answer(400, "the body nests too deeply")
    except (ValueError, UnicodeDecodeError):
        return Answer(400, "body is not JSON")
    if not isinstance(update, dict):
        return Answer(400, "an update is a JSON object")
    # Counting brackets is cheap; only a body with many of them is walked.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _nests_deeper(update, MAX_DEPTH):
        return Answer(400, "the body nests too deeply")
    update_id = update.get("update_id")
    if type(update_id) is not int or update_id < 0:
        return Answer(400, "update_id must be a non-negative integer")

    route = routing.route(update)
    if route is None:
        stats.count_unrouted(routing.update_kind(update))
        return OK

    try:
        queued = publish.enqueue_update(bot, update, route)
    except publish.QueueUnavailable as exc:
        # Nothing was claimed: Telegram delivers again and the update is processed then.
        logger.error("ingress: cannot queue update %s of bot %s: %s", update_id, bot.id, exc)
        return Answer(503, "queue unavailable, deliver again later")
    if not queued:
        logger.debug("ingress: duplicate update %s of bot %s", update_id, bot.id)
    return OK


def _nests_deeper(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels, walked without recursion."""
    stack: list[tuple[dict[str, object] | list[object], int]] = [({"": value}, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
