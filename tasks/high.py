"""Tasks on the `high` queue: a person is waiting for these."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.accounts.services import clones
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


@shared_task(name="tasks.high.register_clone")
def register_clone(clone_id: int, chat_id: int, message_id: int) -> None:
    """Point Telegram at a bot just cloned and tell its owner (SPEC D7). Safe to run twice: a
    second run gives the clone another fresh webhook secret (Telegram keeps the last one) and
    edits the owner's message to the same words."""
    clones.do_register_clone(clone_id, chat_id, message_id, ingress.register_for_updates)
