"""Tasks on the `high` queue: a person is waiting for these."""

from __future__ import annotations

from celery import shared_task

from apps.ops import services


@shared_task(name="tasks.high.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `high` (health checks, operators)."""
    return services.worker_identity(ping.request)
