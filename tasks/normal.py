"""Tasks on the `normal` queue: scheduled sends, periodic messages, state transitions."""

from __future__ import annotations

from celery import shared_task

from apps.accounts.services import accounts
from apps.ops import services


@shared_task(name="tasks.normal.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `normal` (health checks, operators)."""
    return services.worker_identity(ping.request)


@shared_task(name="tasks.normal.alert_on_dead_letters")
def alert_on_dead_letters() -> dict[str, int]:
    return services.alert_on_dead_letters()


@shared_task(name="tasks.normal.tell_referrer")
def tell_referrer(bot_id: int, entry_id: int) -> bool:
    """Tell a referrer their link brought someone (SPEC D1). Safe to run twice: a Redis claim
    per referral lets one run send the message."""
    return accounts.do_tell_referrer(bot_id, entry_id)
