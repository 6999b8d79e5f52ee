"""Tasks on the `low` queue: bulk and clean-up work that must never delay `high`."""

from __future__ import annotations

from datetime import date

from celery import Task, shared_task

from apps.accounts.services import daily
from apps.broadcasts.services import deletion, sending
from apps.growth.services import counts
from apps.guard.services import batch as guard_batch
from apps.ingress import services as ingress
from apps.members.services import activity, kicker
from apps.ops import services
from apps.periodic.services import runs as periodic_runs


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


@shared_task(name="tasks.low.purge_periodic_runs")
def purge_periodic_runs() -> int:
    """Periodic messages' runs older than PERIODIC_KEEP_DAYS (SPEC M6). Safe twice: a second
    run finds nothing that old left."""
    return periodic_runs.purge_old_runs()


@shared_task(name="tasks.low.purge_seen_updates")
def purge_seen_updates() -> int:
    return ingress.purge_seen_updates()


@shared_task(name="tasks.low.verify_recent_members")
def verify_recent_members() -> dict[str, int]:
    """Re-check recently active members of protected groups (SPEC G11)."""
    return guard_batch.do_verify_recent_members()


# A run's share of Celery's 60 s soft time limit; what is left is done by the next job.
DAILY_RUN_SECONDS = 40.0


@shared_task(name="tasks.low.grant_daily_points")
def grant_daily_points(day: str | None = None, after: int = 0) -> dict[str, int | str]:
    """The daily points (SPEC D2), in set-based batches; a run that uses up its time hands the
    rest on to a new job. Safe to run twice, or two at once: the ledger's unique key (account,
    daily, day) lets each account be credited once a day, and a balance grows only with the
    ledger row inserted in the same statement."""
    progress = daily.do_grant_daily_points(
        date.fromisoformat(day) if day else None, after=after, seconds=DAILY_RUN_SECONDS
    )
    if not progress.done:
        grant_daily_points.delay(progress.day.isoformat(), progress.after)
    return {"day": progress.day.isoformat(), "after": progress.after, "granted": progress.granted}


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


@shared_task(name="tasks.low.flush_member_activity")
def flush_member_activity() -> dict[str, int | float | bool]:
    """Write the buffered member activity to PostgreSQL (SPEC M3). Safe twice or side by side:
    a Redis lock lets one flush run at a time, and a buffer is counted once (its token is
    recorded with the rows it wrote; see apps/members/services/activity.py)."""
    result = activity.do_flush()
    return {"members": result.members, "messages": result.messages, "rows": result.rows,
            "seconds": round(result.seconds, 3), "skipped": result.skipped}  # fmt: skip


@shared_task(name="tasks.low.start_kick_runs")
def start_kick_runs() -> list[int]:
    """Start this hour's kick run in each group with a kick rule (SPEC M4). Safe twice: a
    group's run for an hour is unique, so a second call queues nothing new."""
    runs = kicker.do_start_runs()
    for run_id in runs:
        kick_chunk.delay(run_id)
    return runs


@shared_task(name="tasks.low.kick_chunk", bind=True)
def kick_chunk(self: Task, run_id: int) -> None:
    """One chunk of a kick run, then queue the next (SPEC M4). Safe twice or side by side: the
    chunk holds the run's lease, and each member is claimed before removal, so nobody is
    removed twice."""
    countdown = kicker.do_kick_chunk(run_id)
    if countdown is not None:
        self.apply_async(args=(run_id,), countdown=countdown)


@shared_task(name="tasks.low.plan_member_counts")
def plan_member_counts() -> int:
    """A round of member counts: one job per group, spread over the interval (SPEC M5). Safe
    twice: a second round writes one more history row per group, nothing else."""
    return counts.do_plan_round()


@shared_task(name="tasks.low.refresh_member_count")
def refresh_member_count(group_id: int) -> int | None:
    """One group's getChatMemberCount, recorded, then its phase rules (SPEC M5, M1). Safe
    twice: one more history row, and a transition is made once (the profile row is locked)."""
    row = counts.do_refresh(group_id)
    return row.count if row else None
