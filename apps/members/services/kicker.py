"""The inactive-member kicker (SPEC M4).

Hourly, beat runs `tasks.low.start_kick_runs` → `do_start_runs`: one KickRun per group whose
growth profile has a kick rule (apps.growth GrowthProfile.kick_after_days), unique per group and
hour, so beat firing twice starts nothing twice. Each run is then worked through by
`tasks.low.kick_chunk` → `do_kick_chunk`, one chunk per job (at most CHUNK members or
CHUNK_SECONDS), each re-queueing the next: a group of 100,000 members is never one job that runs
for minutes.

A candidate is a present member (`left_at` empty) whose `active_at` (the later of their join, or
first sighting, and their last message) is older than the rule's days: inactive that long and
joined longer ago than that. The selection walks the partial index `activity_kick_idx` in
(active_at, user_id) order from where the last chunk stopped.

Never removed, whatever their silence (each counted under its reason in `KickRun.skipped`): the
chat's administrators and its creator (getChatAdministrators, once per run), the group's owner
in GMBot, this bot, other bots, and the rule's exemptions (KickExemption). A member promoted
since is refused by Telegram (`user is an administrator`) and counted as an admin too.

Removing is banChatMember then unbanChatMember(only_if_banned=True): out of the group, free to
come back by link. Every call is made inside the `low` queue's bulk traffic, so it draws on the
bot's bulk budget (apps/telegram/ratelimit.py) and interactive work keeps its room; a budget
that is full beyond a short wait ends the chunk, and the next one starts when it frees.

Dry run: the same selection and skips, nobody removed, `KickRun.listed` says who would have been.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.bots.context import BotContext, context_for
from apps.growth.models import GrowthProfile
from apps.members.models import KickExemption, KickRun, MemberActivity
from apps.telegram.errors import BadRequest, RateLimited, RetryAfter, TelegramError, Unreachable

logger = logging.getLogger(__name__)

CHUNK = 200
# A chunk's share of Celery's 60 s soft time limit; a chunk that uses it up hands on the rest.
CHUNK_SECONDS = 30.0
# While a chunk works on a run it holds this lease; a job that died frees the run when it ends.
LEASE = timedelta(seconds=90)
# A run left running with no lease this long (its next job lost) is picked up by the next start.
STALLED = timedelta(minutes=5)
# After a transient failure (5xx, timeout) the chunk stops and the next tries this much later.
TRANSIENT_PAUSE = 5.0
# A run that met this many errors it could not pass ends as failed rather than retry for ever.
MAX_RUN_ERRORS = 20

# Reasons in KickRun.skipped.
ADMIN = "admin"
OWNER = "owner"
THIS_BOT = "this bot"
OTHER_BOT = "other bot"
EXEMPT = "exempt"
ACTIVE_AGAIN = "active again"
NOT_MEMBER = "not a member"

SELECT = """
SELECT id, user_id, is_bot, active_at FROM members_memberactivity
WHERE group_id = %s AND left_at IS NULL AND active_at < %s
  AND (active_at, user_id) > (%s, %s)
ORDER BY active_at, user_id
LIMIT %s
"""
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


class LostRights(Exception):
    """The bot may not ban here (no can_restrict_members, or not a supergroup): the run ends."""


@dataclass(frozen=True)
class Candidate:
    id: int
    user_id: int
    is_bot: bool
    active_at: datetime


def do_start_runs(now: datetime | None = None) -> list[int]:
    """Start this hour's run in every enabled group with a kick rule whose bot is active and
    runs the growth feature, and
    pick up runs whose jobs were lost. Returns the ids of the runs to queue a chunk for. Safe to
    run twice: a group's run for an hour is unique, a second call finds it and queues nothing
    (a stalled one excepted)."""
    now = now or timezone.now()
    slot = now.replace(minute=0, second=0, microsecond=0)
    profiles = GrowthProfile.objects.filter(
        kick_after_days__isnull=False,
        kick_after_days__gt=0,
        group__enabled=True,
        group__bot__is_active=True,
        group__bot__features__contains=["growth"],  # the rule is the growth feature's
    ).select_related("group")
    started = []
    for profile in profiles:
        days = int(profile.kick_after_days or 0)
        cutoff = now - timedelta(days=days)
        run, created = KickRun.objects.get_or_create(
            group=profile.group,
            slot=slot,
            defaults={
                "kick_after_days": days,
                "dry_run": profile.kick_dry_run,
                "cutoff": cutoff,
                "candidates": candidates(profile.group_id, cutoff).count(),
            },
        )
        if created:
            started.append(run.pk)
    stalled = KickRun.objects.filter(
        status=KickRun.Status.RUNNING, updated_at__lt=now - STALLED
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    started += list(stalled.exclude(pk__in=started).values_list("pk", flat=True))
    return started


def candidates(group_id: int, cutoff: datetime) -> QuerySet[MemberActivity]:
    """Present members of the group not active since `cutoff` (the run's count)."""
    return MemberActivity.objects.filter(
        group_id=group_id, left_at__isnull=True, active_at__lt=cutoff
    )


def select_chunk(run: KickRun, limit: int | None = None) -> list[Candidate]:
    """The next `limit` (CHUNK) candidates after the run's position, by the kick index."""
    after = run.after_active_at or EPOCH
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [run.group_id, run.cutoff, after, run.after_user_id, limit or CHUNK])
        return [Candidate(*row) for row in cursor.fetchall()]


def do_kick_chunk(run_id: int) -> float | None:
    """Work through the run's next chunk; returns the countdown for the next chunk, or None
    when the run is over (or another job holds it). Safe to run twice or side by side: a chunk
    holds the run's lease (a conditional update) while it works, and each member is claimed
    (their row marked left, conditionally) before they are removed, so nobody is removed twice.
    Locks nothing in PostgreSQL beyond single-row updates."""
    now = timezone.now()
    claimed = (
        KickRun.objects.filter(pk=run_id, status=KickRun.Status.RUNNING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return None
    run = KickRun.objects.select_related("group", "group__owner").get(pk=run_id)
    bot = context_for(run.group.bot_id)
    if bot is None:
        _finish(run, KickRun.Status.FAILED, error="the bot is inactive")
        return None
    try:
        if run.chunks == 0:
            run.protected_ids = _protected(bot, run)
        countdown, more = _work(bot, run)
    except Unreachable as exc:
        _finish(run, KickRun.Status.FAILED, error=f"the group cannot be reached: {exc.reason}")
        return None
    except LostRights:
        _finish(run, KickRun.Status.FAILED, error="the bot may not remove members here")
        return None
    except BadRequest as exc:  # getChatAdministrators refused for good (chat not found, …)
        _finish(run, KickRun.Status.FAILED, error=f"the administrators could not be read: {exc}")
        return None
    except TelegramError as exc:  # a 5xx, a timeout, a 429: try again shortly, a few times
        _note_error(run, 0, exc)
        if run.error_count >= MAX_RUN_ERRORS:
            _finish(run, KickRun.Status.FAILED, error="too many errors")
            return None
        _save(run)
        return exc.retry_after if isinstance(exc, RetryAfter) else TRANSIENT_PAUSE
    if not more:
        _finish(run, KickRun.Status.DONE)
        return None
    _save(run)
    return countdown


def _protected(bot: BotContext, run: KickRun) -> dict[str, list[int]]:
    """Who this run may never remove, by reason: the chat's creator and the group's owner in
    GMBot, and the chat's administrators (bots too)."""
    admins = bot.telebot.get_chat_administrators(run.group.chat_id, return_bots=True)
    run.calls += 1
    owners = {member.user.id for member in admins if member.status == "creator"}
    if run.group.owner is not None:
        owners.add(run.group.owner.telegram_id)
    others = {member.user.id for member in admins} - owners
    return {OWNER: sorted(owners), ADMIN: sorted(others)}


def _work(bot: BotContext, run: KickRun) -> tuple[float, bool]:
    """Go through one chunk; returns (countdown for the next, whether there may be more)."""
    owners = set(run.protected_ids.get(OWNER, []))
    admins = set(run.protected_ids.get(ADMIN, []))
    exempt = set(
        KickExemption.objects.filter(group_id=run.group_id).values_list("user_id", flat=True)
    )
    chunk = select_chunk(run)
    deadline = time.monotonic() + CHUNK_SECONDS
    run.chunks += 1
    for candidate in chunk:
        if time.monotonic() > deadline:
            return 0.0, True
        reason = _skip_reason(candidate, bot, owners, admins, exempt)
        if reason is not None:
            _skip(run, reason)
        elif run.dry_run:
            _list(run, candidate.user_id)
        else:
            outcome = _remove(bot, run, candidate)
            if outcome is not None:
                return outcome, True
        run.after_active_at, run.after_user_id = candidate.active_at, candidate.user_id
    return 0.0, len(chunk) == CHUNK


def _skip_reason(
    candidate: Candidate, bot: BotContext, owners: set[int], admins: set[int], exempt: set[int]
) -> str | None:
    if candidate.user_id == bot.telegram_id:
        return THIS_BOT
    if candidate.user_id in owners:
        return OWNER
    if candidate.user_id in admins:
        return ADMIN
    if candidate.is_bot:
        return OTHER_BOT
    if candidate.user_id in exempt:
        return EXEMPT
    return None


def _remove(bot: BotContext, run: KickRun, candidate: Candidate) -> float | None:
    """Claim and remove one member. Returns a countdown when the chunk must stop here (the
    member unclaimed, to be tried by the next chunk), None to go on."""
    now = timezone.now()
    mine = MemberActivity.objects.filter(
        pk=candidate.id, left_at__isnull=True, active_at__lt=run.cutoff
    ).update(left_at=now, updated_at=now)
    if not mine:
        _skip(run, ACTIVE_AGAIN)  # wrote or left since the selection (or a job before took them)
        return None
    chat_id = run.group.chat_id
    try:
        run.calls += 1
        bot.telebot.ban_chat_member(chat_id, candidate.user_id)
        run.calls += 1
        bot.telebot.unban_chat_member(chat_id, candidate.user_id, only_if_banned=True)
    except RateLimited as exc:
        _unclaim(candidate)
        run.calls -= 1  # the refused slot was never used
        return exc.retry_after
    except BadRequest as exc:
        if exc.method == "banChatMember":
            _unclaim(candidate)
        if exc.reason in ("not_enough_rights", "wrong_chat_type"):
            raise LostRights from exc
        if exc.reason == "user_is_admin":
            _skip(run, ADMIN)
        elif exc.reason in ("user_not_found", "user_not_participant"):
            _skip(run, NOT_MEMBER)
        else:
            _note_error(run, candidate.user_id, exc)
        return None
    except Unreachable:
        _unclaim(candidate)
        raise
    except TelegramError as exc:
        _unclaim(candidate)
        _note_error(run, candidate.user_id, exc)
        if run.error_count >= MAX_RUN_ERRORS:
            raise
        return exc.retry_after if isinstance(exc, RetryAfter) else TRANSIENT_PAUSE
    run.removed += 1
    _list(run, candidate.user_id)
    return None


def _unclaim(candidate: Candidate) -> None:
    MemberActivity.objects.filter(pk=candidate.id).update(left_at=None)


def _skip(run: KickRun, reason: str) -> None:
    run.skipped[reason] = run.skipped.get(reason, 0) + 1


def _list(run: KickRun, user_id: int) -> None:
    if len(run.listed) < KickRun.LISTED_KEPT:
        run.listed.append(user_id)


def _note_error(run: KickRun, user_id: int, exc: TelegramError) -> None:
    run.error_count += 1
    if len(run.errors) < KickRun.ERRORS_KEPT:
        run.errors.append({"user_id": user_id, "error": str(exc)[:255]})


PROGRESS = ["candidates", "removed", "listed", "skipped", "errors", "error_count", "chunks",
            "calls", "protected_ids", "after_active_at", "after_user_id"]  # fmt: skip


def _save(run: KickRun) -> None:
    """Record the chunk's progress and free the run for the next chunk."""
    run.lease_until = None
    run.save(update_fields=[*PROGRESS, "lease_until", "updated_at"])


def _finish(run: KickRun, status: str, error: str = "") -> None:
    if error:
        run.error_count += 1
        run.errors.append({"user_id": 0, "error": error})
        logger.warning("members: kick run %s in group %s failed: %s", run.pk, run.group_id, error)
    run.status = status
    run.finished_at = timezone.now()
    run.duration_seconds = (run.finished_at - run.started_at).total_seconds()
    run.lease_until = None
    done = ["status", "finished_at", "duration_seconds", "lease_until", "updated_at"]
    run.save(update_fields=[*PROGRESS, *done])
    logger.info(
        "members: kick run %s in group %s %s: %d candidates, %d removed%s, skipped %s",
        run.pk, run.group_id, status, run.candidates, run.removed,
        " (dry run)" if run.dry_run else "", run.skipped,
    )  # fmt: skip
