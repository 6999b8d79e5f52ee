"""Tasks on the `low` queue: bulk and clean-up work that must never delay `high`."""

from __future__ import annotations

from celery import Task, shared_task

from apps.broadcasts.services import deletion, sending
from apps.guard.services import batch as guard_batch
from apps.ingress import services as ingress
from apps.ops import services


@shared_task(name="tasks.low.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `low` (health checks, operators)."""
    return services.worker_identity(ping.request)


@shared_task(name="tasks.low.clear_expired_sessions")
def clear_expired_sessions() -> int:
    return services.clear_expired_sessions()


@shared_task(name="tasks.low.purge_dead_letters")
def purge_dead_letters() -> int:
    return services.purge_dead_letters()


@shared_task(name="tasks.low.purge_seen_updates")
def purge_seen_updates() -> int:
    return ingress.purge_seen_updates()


@shared_task(name="tasks.low.verify_recent_members")
def verify_recent_members() -> dict[str, int]:
    """Re-check recently active members of protected groups (SPEC G11)."""
    return guard_batch.do_verify_recent_members()


@shared_task(name="tasks.low.send_broadcast_batch", bind=True)
def send_broadcast_batch(self: Task, broadcast_id: int) -> None:
    """Send one batch of a broadcast, then queue the next (SPEC B2). Safe twice or side by side:
    each delivery is claimed by one attempt and leaves `pending` once; one claimed by a job that
    died becomes `unknown` and is never sent again."""
    countdown = sending.do_send_batch(broadcast_id)
    if countdown is not None:
        self.apply_async(args=(broadcast_id,), countdown=countdown)


@shared_task(name="tasks.low.delete_broadcast_batch", bind=True)
def delete_broadcast_batch(self: Task, broadcast_id: int) -> None:
    """Delete one batch of a broadcast's messages, then queue the next (SPEC B5). Safe twice:
    deletions are claimed like sends, and deleting a message again is answered as deleted."""
    countdown = deletion.do_delete_batch(broadcast_id)
    if countdown is not None:
        self.apply_async(args=(broadcast_id,), countdown=countdown)
