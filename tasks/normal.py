"""Tasks on the `normal` queue: scheduled sends, periodic messages, state transitions."""

from __future__ import annotations

from celery import Task, shared_task

from apps.accounts.services import accounts
from apps.broadcasts.services import owners, planning, resume
from apps.growth.services import executing, phases
from apps.ops import services


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


@shared_task(name="tasks.normal.execute_join_requests", bind=True)
def execute_join_requests(self: Task, group_id: int) -> int:
    """Approve or decline a group's decided join requests at its pace, then queue the next job
    (SPEC M2). Safe twice or side by side: slots come from one pace in Redis and each request
    is claimed by conditional update, so it is called for once (a repeat after a lost job is
    answered "already participant" or "request missing": done)."""
    batch = executing.do_execute_batch(group_id)
    if batch.countdown is not None:
        executing.requeue(group_id, batch.countdown)
    return batch.executed


@shared_task(name="tasks.normal.redrive_join_requests")
def redrive_join_requests() -> dict[str, int]:
    """Drive decided requests whose executor was lost, expire stale ones (SPEC M2). Safe twice:
    conditional updates, and an executor is queued only when none is marked."""
    report = executing.do_redrive()
    return {"released": report.released, "scheduled": report.scheduled, "expired": report.expired}


@shared_task(name="tasks.normal.apply_growth_rules")
def apply_growth_rules() -> int:
    """Phase transitions the rules call for (SPEC M1). Safe twice: a profile already in the
    phase is not moved again, and each change locks its row."""
    return phases.do_apply_all_rules()
