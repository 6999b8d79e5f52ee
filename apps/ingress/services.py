"""Registering webhooks and long-polling: the two ways updates reach the same router (SPEC W5)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from telebot import apihelper

from apps.bots import features
from apps.bots.context import ref_of
from apps.bots.models import Bot
from apps.bots.services import BotRef
from apps.ingress import publish, routing, stats
from apps.ingress.models import SeenUpdate
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import TelegramError

logger = logging.getLogger(__name__)


class WebhookError(Exception):
    pass


def select_bots(name: str | None, *, everyone: bool = False) -> list[Bot]:
    bots = Bot.objects.filter(is_active=True)
    if everyone:
        return list(bots)
    name = (name or "").lstrip("@")
    match = Q(username__iexact=name)
    if name.isdigit():
        match |= Q(telegram_id=int(name))
    return list(bots.filter(match))


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str  # for the caller to use once; only its hash is stored


def set_webhook(
    row: Bot, base_url: str, *, max_connections: int, drop_pending_updates: bool = False
) -> Webhook:
    """Point Telegram at our webhook with a fresh secret; store the secret's hash once it took.
    Telegram is asked for the update kinds the bot's features need, and no others.

    Locks nothing: the new hash is saved only after Telegram accepted the new secret, so a failed
    call leaves the working webhook as it was.
    """
    url = base_url + settings.WEBHOOK_PATH
    secret = row.rotate_webhook_secret()
    try:
        telebot_for_token(row.token).set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=routing.allowed_updates(features.update_kinds(row.features)),
            max_connections=max_connections,
            drop_pending_updates=drop_pending_updates,
        )
    except TelegramError as exc:
        raise WebhookError(exc.description) from None
    except Exception as exc:  # pyTelegramBotAPI's own errors (network, API) before ours map them
        raise WebhookError(str(exc)) from None
    row.save(update_fields=["webhook_secret_hash", "updated_at"])
    return Webhook(url=url, secret=secret)


def register_for_updates(row: Bot) -> str | None:
    """Have Telegram deliver a newly added bot's updates (a clone, apps/accounts): its webhook
    at WEBHOOK_BASE_URL with a fresh secret of its own or, with no public URL configured, no
    webhook, so `runbot` can long-poll it. Returns None when done, else Telegram's reason for
    refusing."""
    try:
        if settings.WEBHOOK_BASE_URL:
            set_webhook(
                row, settings.WEBHOOK_BASE_URL, max_connections=settings.WEBHOOK_MAX_CONNECTIONS
            )
        else:
            delete_webhook(row)
    except WebhookError as exc:
        return str(exc)
    except TelegramError as exc:
        return exc.description
    return None


def accept_polled_update(ref: BotRef, update: dict[str, Any]) -> bool:
    """Feed an update from getUpdates into the same routing as the webhook."""
    route = routing.route(update)
    if route is None:
        stats.count_unrouted(routing.update_kind(update))
        return False
    return publish.enqueue_update(ref, update, route)


def poll_forever(row: Bot, stop: threading.Event, *, timeout: int = 25) -> None:
    """Long-poll getUpdates for one bot until `stop` is set. The offset only advances past an
    update once it is queued, so nothing is lost when the queue is down."""
    ref = ref_of(row)
    kinds = routing.allowed_updates(features.update_kinds(row.features))
    offset = 0
    while not stop.is_set():
        try:
            # The raw dicts, as the webhook would receive them (TeleBot.get_updates parses them).
            updates = apihelper.get_updates(
                row.token,
                offset=offset or None,
                allowed_updates=kinds,
                long_polling_timeout=timeout,
            )
        except Exception as exc:
            logger.warning("runbot: getUpdates failed for %s: %s", row, exc)
            stop.wait(2)
            continue
        for update in updates:
            try:
                accept_polled_update(ref, update)
            except publish.QueueUnavailable as exc:
                logger.error("runbot: cannot queue update %s: %s", update["update_id"], exc)
                stop.wait(2)
                break
            offset = update["update_id"] + 1


def delete_webhook(row: Bot) -> None:
    telebot_for_token(row.token).delete_webhook()


def purge_seen_updates(older_than: timedelta = timedelta(days=1)) -> int:
    """Drop PostgreSQL dedup rows past the window in which Telegram could deliver them again."""
    deleted, _ = SeenUpdate.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted
