"""Tasks on the `high` queue: a person is waiting for these."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.ingress import dispatch
from apps.ops import services


@shared_task(name="tasks.high.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `high` (health checks, operators)."""
    return services.worker_identity(ping.request)


@shared_task(name="tasks.high.process_update")
def process_update(bot_id: int, update: dict[str, Any]) -> None:
    """Run the handlers for one update received by the webhook or `runbot`."""
    dispatch.process_update(bot_id, update)
