"""Tasks on the `normal` queue: scheduled sends, periodic messages, state transitions."""

from __future__ import annotations

from celery import Task, shared_task

from apps.accounts.services import accounts
from apps.broadcasts.services import owners, planning, resume
from apps.ops import services
from apps.periodic.services import runs
from apps.periodic.services import sending as periodic_sending


@shared_task(name="tasks.normal.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer from a worker consuming `normal` (health checks, operators)."""
    return services.worker_identity(ping.request)


@shared_task(name="tasks.normal.check_bots")
def check_bots() -> dict[str, list[int]]:
    """getMe for every active bot; a revoked token deactivates its bot (SPEC M7)."""
    report = services.do_check_bots()
    return {"deactivated": report.deactivated, "failed": report.failed}


@shared_task(name="tasks.normal.alert_on_dead_letters")
def alert_on_dead_letters() -> dict[str, int]:
    return services.alert_on_dead_letters()


@shared_task(name="tasks.normal.tell_referrer")
def tell_referrer(bot_id: int, entry_id: int) -> bool:
    """Tell a referrer their link brought someone (SPEC D1). Safe to run twice: a Redis claim
    per referral lets one run send the message."""
    return accounts.do_tell_referrer(bot_id, entry_id)


@shared_task(name="tasks.normal.plan_broadcast")
def plan_broadcast(broadcast_id: int) -> int:
    """One delivery row per target, then the sending jobs (SPEC B2). Safe twice: the broadcast
    is claimed (queued → sending) with its rows, which are unique per (broadcast, group)."""
    return planning.do_plan(broadcast_id)


@shared_task(name="tasks.normal.resume_broadcasts")
def resume_broadcasts() -> dict[str, int]:
    """Restart broadcasts whose jobs were lost (SPEC B6). Safe twice: planning and every row are
    claimed, so an extra job finds nothing left to take."""
    return resume.do_resume_stalled()


@shared_task(name="tasks.normal.tell_owner_deactivated")
def tell_owner_deactivated(group_id: int) -> bool:
    """Tell the owner that broadcasts stopped going to the group (SPEC B4). Safe twice: one
    message per deactivation (a Redis claim)."""
    return owners.do_tell_owner_deactivated(group_id)


@shared_task(name="tasks.normal.send_periodic_message", bind=True)
def send_periodic_message(self: Task, message_id: int) -> int | None:
    """Beat's job for a periodic message (SPEC M6): write this scheduled run and its send rows,
    then queue its first batch. Safe twice: the run is unique per (message, run key) and found
    again by this job's id when it is redelivered, so a repeat queues a batch that finds nothing
    left to send."""
    run_id = runs.do_start_run(message_id, self.request.id or "")
    if run_id is not None:
        send_periodic_batch.delay(run_id)
    return run_id


@shared_task(name="tasks.normal.send_periodic_batch", bind=True)
def send_periodic_batch(self: Task, run_id: int) -> None:
    """Send one batch of a periodic message's run, then queue the next. Safe twice or side by
    side: each row is claimed by one job and leaves `pending` once."""
    countdown = periodic_sending.do_send_batch(run_id)
    if countdown is not None:
        self.apply_async(args=(run_id,), countdown=countdown)
