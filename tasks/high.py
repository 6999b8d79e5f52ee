"""Tasks on the `high` queue: a person is waiting for these."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.accounts.services import clones
from apps.bots.context import context_for
from apps.guard.services import enforcement
from apps.ingress import dispatch, sealing
from apps.ingress import services as ingress
from apps.ops import services
from gmbot import logs


@shared_task(name="tasks.high.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `high` (health checks, operators)."""
    return services.worker_identity(ping.request)


@shared_task(name="tasks.high.process_update")
def process_update(bot_id: int, update: dict[str, Any]) -> None:
    """Run the handlers for one update received by the webhook or `runbot` (opened first if it
    travelled sealed because it holds a bot token: apps/ingress/sealing.py)."""
    opened = sealing.opened(update)
    logs.bind_update(bot_id, opened)
    dispatch.process_update(bot_id, opened)


@shared_task(name="tasks.high.send_warning")
def send_warning(bot_id: int, chat_id: int, user_id: int, left_channel: bool) -> bool:
    """A guard warning that waited for its group's message budget (SPEC G5). Safe to run twice:
    the warning's claim (one per member per group per 5 minutes) is held until it is sent, and a
    member verified meanwhile is not warned."""
    bot = context_for(bot_id)
    if bot is None:
        return False
    return enforcement.do_send_deferred_warning(bot, chat_id, user_id, left_channel)


@shared_task(name="tasks.high.register_clone")
def register_clone(clone_id: int, chat_id: int, message_id: int) -> None:
    """Point Telegram at a bot just cloned and tell its owner (SPEC D7). Safe to run twice: a
    second run gives the clone another fresh webhook secret (Telegram keeps the last one) and
    edits the owner's message to the same words."""
    clones.do_register_clone(clone_id, chat_id, message_id, ingress.register_for_updates)
