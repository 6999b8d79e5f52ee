"""Operations: health of the parts the product depends on, worker identity, clean-ups, and
dead letters (replay, discard, listing, alerting)."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from django.contrib.sessions.models import Session
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from apps.bots.models import Bot
from apps.bots.services import forget_cached_bots
from apps.ops.models import DeadLetter
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import BadRequest, TelegramError
from celeryconfig import QUEUE_NAMES
from gmbot import claims, counters
from gmbot.env import env
from gmbot.redis import get_redis

STARTED_AT = time.monotonic()


def worker_identity(request: Any) -> dict[str, str]:
    """Which worker, from which queue, ran the current task."""
    delivery = request.delivery_info or {}
    return {"hostname": request.hostname or "", "queue": delivery.get("routing_key") or ""}


def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def check_redis() -> bool:
    try:
        return bool(get_redis().ping())
    except Exception:
        return False


def check_broker() -> bool:
    from gmbot.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return True
    except Exception:
        return False


def unapplied_migrations() -> int | None:
    """How many migrations the database still lacks; None when it cannot be asked. A database
    that answers but was never migrated is not healthy: every page and task would fail on it."""
    from django.db.migrations.executor import MigrationExecutor

    try:
        loader = MigrationExecutor(connection).loader
        # Every migration the code has that the database has not recorded: a plan towards the
        # leaf nodes would miss one whose successor is applied (a history gone inconsistent).
        return sum(1 for node in loader.graph.nodes if node not in loader.applied_migrations)
    except Exception:
        return None


def check_broker_durable() -> str | None:
    """Why the broker would lose queued jobs, or None when it keeps them across a restart.

    Redis keeps them only with its append-only file on, and keeps them at all only if it never
    evicts keys when memory runs out. RabbitMQ's queues are declared durable and its messages
    persistent (kombu's defaults), so it is taken as durable.
    """
    from gmbot.celery import app

    url = str(app.conf.broker_url)
    if urlsplit(url).scheme not in {"redis", "rediss"}:
        return None
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            persistence, memory = client.info("persistence"), client.info("memory")
    except Exception as exc:
        return f"cannot ask the broker how it keeps jobs: {type(exc).__name__}"
    policy = memory.get("maxmemory_policy")
    if str(persistence.get("aof_enabled")) != "1":
        return "Redis runs without its append-only file (appendonly no): a restart loses the jobs"
    if policy != "noeviction":
        return f"Redis may evict keys when memory is full (maxmemory-policy {policy}): jobs too"
    return None


def health() -> dict[str, Any]:
    unapplied = unapplied_migrations()
    durable = check_broker_durable()
    checks = {
        "database": check_database(),
        "migrations": unapplied == 0,
        "redis": check_redis(),
        "broker": check_broker(),
        "broker_durable": durable is None,
    }
    report: dict[str, Any] = {
        "status": "ok" if all(checks.values()) else "degraded",
        "checks": checks,
        "uptime_seconds": round(time.monotonic() - STARTED_AT, 1),
    }
    if unapplied:
        report["unapplied_migrations"] = unapplied
        report["fix"] = "python manage.py migrate"
    if durable is not None:
        report["details"] = {"broker_durable": durable}
    return report


# ---- bot health (SPEC M7) ---------------------------------------------------------------------


@dataclass
class HealthReport:
    answered: list[int] = field(default_factory=list)  # bot pks whose getMe answered
    failed: list[int] = field(default_factory=list)  # could not ask now (kept active)
    deactivated: list[int] = field(default_factory=list)  # token revoked: deactivated now


def do_check_bots() -> HealthReport:
    """getMe for every active bot. A bot whose token Telegram no longer accepts (401) is
    deactivated, and the operators told, once: the deactivation is a conditional update, so a
    second run (or two at once) finds nothing to do. Any other failure is noted on the row and
    the bot stays active. Locks nothing."""
    report = HealthReport()
    for row in Bot.objects.filter(is_active=True).order_by("pk"):
        try:
            telebot_for_token(row.token).get_me()
        except TelegramError as exc:
            revoked = isinstance(exc, BadRequest) and exc.reason == "unauthorized"
            if revoked and _deactivate(row, exc.description):
                report.deactivated.append(row.pk)
            elif not revoked:
                Bot.objects.filter(pk=row.pk).update(check_error=exc.description[:255])
                report.failed.append(row.pk)
            continue
        Bot.objects.filter(pk=row.pk).update(checked_at=timezone.now(), check_error="")
        report.answered.append(row.pk)
    return report


def _deactivate(row: Bot, description: str) -> bool:
    claimed = claims.claim_row(
        Bot.objects.filter(pk=row.pk, is_active=True),
        is_active=False,
        check_error=f"token refused: {description}"[:255],
        updated_at=timezone.now(),
    )
    if not claimed:
        return False
    # This process stops serving it now; the others within their caches' minute.
    forget_cached_bots()
    logger.error("bot health: @%s (bot=%s) refused its token (%s): deactivated",
                 row.username, row.telegram_id, description)  # fmt: skip
    try:
        _tell_operators(
            f"GMBot: @{row.username} was deactivated: Telegram no longer accepts its token "
            f"({description}). Its groups get no service until it is added again with a new "
            "token (manage.py addbot)."
        )
    except Exception:
        # Deactivated either way; the ERROR line above and the admin's Bots page say so.
        logger.exception("bot health: could not tell the operators about @%s", row.username)
    return True


# ---- dead letters (SPEC Q2-Q4) ----------------------------------------------------------------

logger = logging.getLogger(__name__)

# Above this many dead letters in one queue the operators are alerted (SPEC Q4).
DEAD_LETTER_ALERT_THRESHOLD = 10
# The same queue is not alerted about again within this many seconds.
DEAD_LETTER_ALERT_INTERVAL = 3600
# Replayed and discarded rows are kept this long for the record, then purged.
DEAD_LETTER_RETENTION_DAYS = 30
# Operators hear of dead letters that could not be stored at most this often per queue.
UNSTORED_ALERT_INTERVAL = 600


class UnknownQueue(LookupError):
    """The queue is not one of celeryconfig.QUEUE_NAMES."""


class InvalidRequest(ValueError):
    """A request body or parameter that cannot be acted on; the message says what is wrong."""


@dataclass(frozen=True)
class ReplaySelection:
    """What to replay: every dead letter of the queue, or the given ids."""

    all: bool
    ids: tuple[int, ...] = ()


@dataclass
class ReplayResult:
    queue: str
    replayed: list[dict[str, Any]] = field(default_factory=list)  # {"id", "task_id"}
    skipped: list[int] = field(default_factory=list)  # not a dead letter of this queue (any more)
    failed: list[int] = field(default_factory=list)  # the broker refused; the row stays dead

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "replayed": self.replayed,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def record_dead_letter(
    *,
    task_name: str,
    task_id: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    queue: str,
    exc: BaseException,
    attempts: int,
    first_failed_at: datetime,
    argsrepr: str = "",
    kwargsrepr: str = "",
) -> DeadLetter:
    """Store a job that will not be retried. Keyed by task id, so recording twice is harmless.

    Whatever the job carried, the row can be written: strings PostgreSQL refuses are stored with
    U+FFFD in their place (the exact arguments kept in `original_json`), and names are cut to
    their columns' lengths.
    """
    description = exc.description if isinstance(exc, TelegramError) else str(exc)
    stored_args, stored_kwargs = _storable(list(args)), _storable(dict(kwargs))
    exact = {"args": list(args), "kwargs": dict(kwargs)}
    altered = [stored_args, stored_kwargs] != [exact["args"], exact["kwargs"]]
    letter, _ = DeadLetter.objects.update_or_create(
        task_id=task_id[:64],
        defaults={
            "task_name": task_name[:200],
            "args": stored_args,
            "kwargs": stored_kwargs,
            "original_json": json.dumps(exact, cls=DjangoJSONEncoder) if altered else "",
            "argsrepr": _storable(argsrepr),
            "kwargsrepr": _storable(kwargsrepr),
            "queue": queue[:32],
            "exception_class": f"{type(exc).__module__}.{type(exc).__qualname__}"[:200],
            "description": _storable(description),
            "traceback": _storable("".join(traceback.format_exception(exc))),
            "attempts": attempts,
            "first_failed_at": first_failed_at,
            "last_failed_at": timezone.now(),
            "status": DeadLetter.Status.DEAD,
        },
    )
    return letter


# What PostgreSQL cannot hold in text or jsonb: NUL, and surrogates (in a Python string they are
# lone ones: a pair decodes to one character).
_REFUSED_BY_POSTGRESQL = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """`value` with every string PostgreSQL would refuse made storable (U+FFFD in place)."""
    if isinstance(value, str):
        return _REFUSED_BY_POSTGRESQL.sub("\ufffd", value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def report_unstored_dead_letter(
    task_name: str, task_id: str, queue: str, error: BaseException, retry_in: float
) -> None:
    """Say loudly that a dead letter could not be stored: an ERROR line, a count per queue
    (counters.DEAD_LETTERS_NOT_STORED), and the operators' chat at most every 10 minutes per
    queue. Never raises: the caller keeps the job and tries again in `retry_in` seconds.

    Only the error's class and first line are logged: PostgreSQL's detail quotes the data.
    """
    summary = f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
    logger.error(
        "could not store the dead letter of %s[%s] on %s (%s); the job is kept and tried "
        "again in %.0fs",
        task_name, task_id, queue, summary, retry_in,
    )  # fmt: skip
    counters.add(counters.DEAD_LETTERS_NOT_STORED, queue)
    name = f"unstored:{queue}"
    if not _claim_alert(name, UNSTORED_ALERT_INTERVAL):
        return
    try:
        _tell_operators(
            f"GMBot: a dead letter of the {queue} queue could not be stored "
            f"({task_name}[{task_id}], {type(error).__name__}). The job is kept and tried again "
            f"every {retry_in:.0f}s; the workers' logs say more."
        )
    except Exception:
        _release_alert(name)
        logger.exception("could not tell the operators about an unstored dead letter")


def check_queue(queue: str) -> str:
    if queue not in QUEUE_NAMES:
        raise UnknownQueue(f"unknown queue {queue!r}; the queues are {', '.join(QUEUE_NAMES)}")
    return queue


def check_replay_request(body: object) -> ReplaySelection:
    """Validate a replay body: `{"ids": [1, 2]}` or `{"all": true}`."""
    if not isinstance(body, dict):
        raise InvalidRequest('the body must be a JSON object: {"ids": [...]} or {"all": true}')
    unknown = set(body) - {"ids", "all"}
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    if "all" in body and "ids" in body:
        raise InvalidRequest('give either "ids" or "all", not both')
    if "all" in body:
        if body["all"] is not True:
            raise InvalidRequest('"all" must be true')
        return ReplaySelection(all=True)
    if "ids" not in body:
        raise InvalidRequest('give "ids" (a list of dead letter ids) or "all": true')
    ids = body["ids"]
    if not isinstance(ids, list) or not ids:
        raise InvalidRequest('"ids" must be a non-empty list of integers')
    if not all(isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 for pk in ids):
        raise InvalidRequest('"ids" must contain only positive integers')
    return ReplaySelection(all=False, ids=tuple(dict.fromkeys(ids)))


def do_replay(queue: str, selection: ReplaySelection) -> ReplayResult:
    """Send dead jobs again, each at most once, with their original args to their original queue.

    Each row is claimed with a conditional update (`status = dead` → `replayed`) before its job
    is sent, so two replays racing over the same row send it once: the loser's update matches
    nothing. If the broker refuses the job, the claim is undone and the row stays dead.
    """
    from gmbot.celery import app

    result = ReplayResult(queue=queue)
    dead = DeadLetter.objects.filter(queue=queue, status=DeadLetter.Status.DEAD)
    if selection.all:
        ids = list(dead.order_by("id").values_list("id", flat=True))
    else:
        ids = list(selection.ids)
    for pk in ids:
        letter = (
            dead.filter(pk=pk)
            .only("task_name", "args", "kwargs", "original_json", "argsrepr", "kwargsrepr")
            .first()
        )
        new_task_id = str(uuid.uuid4())
        claimed = letter is not None and claims.claim_row(
            dead.filter(pk=pk),
            status=DeadLetter.Status.REPLAYED,
            replayed_at=timezone.now(),
            replayed_task_id=new_task_id,
        )
        if not claimed or letter is None:
            result.skipped.append(pk)
            continue
        args, kwargs = letter.job_arguments()
        try:
            app.send_task(
                letter.task_name, args=args, kwargs=kwargs, queue=queue, task_id=new_task_id,
                # Flower shows these instead of the arguments, as it did for the first run.
                argsrepr=letter.argsrepr or f"(dead letter {pk})",
                kwargsrepr=letter.kwargsrepr or "{...}",
            )  # fmt: skip
        except Exception:
            logger.exception("replay of dead letter %s (%s) could not be sent", pk, queue)
            DeadLetter.objects.filter(pk=pk, replayed_task_id=new_task_id).update(
                status=DeadLetter.Status.DEAD, replayed_at=None, replayed_task_id=""
            )
            result.failed.append(pk)
            continue
        logger.info("dead letter %s replayed as %s[%s]", pk, letter.task_name, new_task_id)
        result.replayed.append({"id": pk, "task_id": new_task_id})
    return result


def do_discard(ids: Sequence[int]) -> int:
    """Mark dead letters as given up on; rows already replayed or discarded are left alone."""
    return DeadLetter.objects.filter(pk__in=ids, status=DeadLetter.Status.DEAD).update(
        status=DeadLetter.Status.DISCARDED, discarded_at=timezone.now()
    )


def dead_letter_counts(queue: str) -> dict[str, int]:
    """Rows of the queue per status, every status present, plus the total."""
    counts = dict.fromkeys(DeadLetter.Status.values, 0)
    rows = DeadLetter.objects.filter(queue=queue).values_list("status").annotate(n=Count("id"))
    for status, n in rows:
        counts[status] = n
    return {**counts, "total": sum(counts.values())}


def dead_letter_as_dict(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.pk,
        "task_name": letter.task_name,
        "task_id": letter.task_id,
        "args": letter.args,
        "kwargs": letter.kwargs,
        "original_json": letter.original_json or None,
        "queue": letter.queue,
        "exception_class": letter.exception_class,
        "description": letter.description,
        "traceback": letter.traceback,
        "attempts": letter.attempts,
        "first_failed_at": letter.first_failed_at.isoformat(),
        "last_failed_at": letter.last_failed_at.isoformat(),
        "status": letter.status,
        "replayed_at": letter.replayed_at.isoformat() if letter.replayed_at else None,
        "replayed_task_id": letter.replayed_task_id or None,
    }


def check_listing(params: Mapping[str, str]) -> tuple[str | None, int, int]:
    """Validate `?status=dead|replayed|discarded|all&page=N&per_page=N` (defaults: dead, 1, 50)."""
    status = params.get("status", DeadLetter.Status.DEAD)
    if status != "all" and status not in DeadLetter.Status.values:
        choices = ", ".join([*DeadLetter.Status.values, "all"])
        raise InvalidRequest(f"status must be one of {choices}")
    numbers = {}
    for name, default, most in (("page", 1, None), ("per_page", 50, 200)):
        raw = params.get(name, str(default))
        if not raw.isdigit() or int(raw) < 1 or (most is not None and int(raw) > most):
            limit = f" and at most {most}" if most else ""
            raise InvalidRequest(f"{name} must be a positive integer{limit}")
        numbers[name] = int(raw)
    return (None if status == "all" else status), numbers["page"], numbers["per_page"]


def list_dead_letters(queue: str, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    """One page of a queue's dead letters, newest first, with the counts per status."""
    rows = DeadLetter.objects.filter(queue=queue).order_by("-id")
    if status is not None:
        rows = rows.filter(status=status)
    paginator = Paginator(rows, per_page)
    current = paginator.get_page(page) if page <= max(paginator.num_pages, 1) else None
    return {
        "queue": queue,
        "status": status or "all",
        "counts": dead_letter_counts(queue),
        "page": page,
        "per_page": per_page,
        "pages": paginator.num_pages,
        "count": paginator.count,
        "results": [dead_letter_as_dict(letter) for letter in current or []],
    }


def purge_dead_letters(days: int = DEAD_LETTER_RETENTION_DAYS) -> int:
    """Delete replayed and discarded dead letters settled more than `days` ago. Dead ones stay."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = DeadLetter.objects.filter(
        Q(status=DeadLetter.Status.REPLAYED, replayed_at__lt=cutoff)
        | Q(status=DeadLetter.Status.DISCARDED, discarded_at__lt=cutoff)
    ).delete()
    return deleted


def alert_on_dead_letters() -> dict[str, int]:
    """Alert about every queue holding more than the threshold of dead letters (SPEC Q4).

    An ERROR log line, and a message to OPS_CHAT_ID when it is set; at most once an hour per
    queue (a Redis key with a TTL claims the alert). Returns the queues alerted about.
    """
    counts = dead_letters_by_queue()
    alerted: dict[str, int] = {}
    for queue in QUEUE_NAMES:
        count = counts.get(queue, 0)
        if count <= DEAD_LETTER_ALERT_THRESHOLD or not _claim_alert(queue):
            continue
        logger.error(
            "dead letters above threshold: queue=%s count=%d threshold=%d",
            queue, count, DEAD_LETTER_ALERT_THRESHOLD,
        )  # fmt: skip
        try:
            _tell_operators(
                f"GMBot: {count} dead letters in the {queue} queue "
                f"(threshold {DEAD_LETTER_ALERT_THRESHOLD}). "
                f"Replay or discard them in the admin, or via /admin/dlq/{queue}/."
            )
        except Exception:
            # Free the claim so the next check (or this task's retry) alerts again.
            _release_alert(queue)
            raise
        alerted[queue] = count
    return alerted


def dead_letters_by_queue() -> dict[str, int]:
    """Dead letters still waiting for a replay or discard, per queue that has any: one query."""
    return dict(
        DeadLetter.objects.filter(status=DeadLetter.Status.DEAD)
        .values_list("queue")
        .annotate(n=Count("id"))
    )


def queue_depths() -> tuple[dict[str, int], int | None]:
    """Jobs waiting in each queue, and (Redis broker only) the jobs workers took and have not
    acknowledged: running, or held until a countdown is due. One broker connection.

    Redis keeps a queue only while it holds a job, so a queue it does not know is empty."""
    from gmbot.celery import app

    depths = dict.fromkeys(QUEUE_NAMES, 0)
    unacked = None
    with app.connection_for_read() as conn:
        channel: Any = conn.default_channel  # the transport's own channel class
        for queue in QUEUE_NAMES:
            try:
                depths[queue] = channel.queue_declare(queue, passive=True).message_count
            except conn.channel_errors:
                channel = conn.channel()  # a refused passive declare closes the channel
        if urlsplit(str(app.conf.broker_url)).scheme in {"redis", "rediss"}:
            unacked = int(channel.client.hlen(channel.unacked_key))
    return depths, unacked


def _alert_key(queue: str) -> str:
    return f"ops:dead-letter-alert:{queue}"


def _claim_alert(queue: str, interval: int = DEAD_LETTER_ALERT_INTERVAL) -> bool:
    # Without Redis there is no memory of the last alert; alerting again beats staying silent.
    return claims.claim(
        _alert_key(queue),
        interval,
        fail_open=True,
        note=f"redis unavailable; dead-letter alert for {queue} not throttled",
    )


def _release_alert(queue: str) -> None:
    claims.release(
        _alert_key(queue), note=f"redis unavailable; dead-letter alert for {queue} not released"
    )


def _tell_operators(text: str) -> None:
    """Send `text` to OPS_CHAT_ID through OPS_BOT_USERNAME (or the first active bot), if set."""
    chat = env("OPS_CHAT_ID").strip()
    if not chat:
        return
    username = env("OPS_BOT_USERNAME").strip().lstrip("@")
    bots = Bot.objects.filter(is_active=True)
    bot = bots.filter(username=username).first() if username else bots.order_by("pk").first()
    if bot is None:
        logger.warning("OPS_CHAT_ID is set but no active bot %s can send to it", username or "")
        return
    chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
    telebot_for_token(bot.token).send_message(chat_id, text)
