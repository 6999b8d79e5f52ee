#!/usr/bin/env python3
"""Member activity (SPEC M3) and the kicker (SPEC M4) at the size of a large group.

    python bench/growth_members.py activity [--members 100000] [--messages 3]
    python bench/growth_members.py kicker [--members 100000] [--inactive 5000] [--bulk-limit 50]
                                          [--dry-run]

Everything on 127.0.0.1, against a PostgreSQL database of its own (gmbot_bench_members_activity
or _kicker, made afresh each run) and Redis db 9 (activity: a redis-server of its own).

activity: `--members` members of one managed group each write `--messages` messages; every
message goes through the growth feature's observer (apps/members/observers.py) as a worker runs
it, against a redis-server of the bench's own (redis-py with hiredis, as requirements.txt
pins). Prints the Redis commands per message (that
server's INFO commandstats, before and after, less the INFO itself), the
observer's cost per message, and then two flushes (apps/members/services/activity.py): the first
inserts a row per member, the second (after another round of messages) updates them. For each:
rows/s (target: at least 20,000 member rows/s), SQL statements, Redis commands.

kicker: `--members` tracked members of one supergroup, of whom `--inactive` have been silent
40-90 days (five of those are administrators, and the creator is silent too); the rest wrote
within the last 29 days. The inactive ones exist in the sandbox's Telegram (its limits on); the
Procfile's `worker_low` (two children) works the run as beat would start it, with the bulk
budget at `--bulk-limit` calls a second (the default 5 would take 2,000 s for 10,000 calls; the
rate against the budget is the figure). Prints the plan of the selection (EXPLAIN ANALYZE),
the run's duration, removed, skipped and errors, calls/s against the bulk budget, and the
number of calls that touched an administrator (must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env, spawn, wait  # noqa: E402

BENCH_DB = "gmbot_bench_members"  # _activity or _kicker after it: the two may run side by side
BENCH_REDIS_DB = 9
TOKEN = "7950000001:AAbenchmembersbenchmembersbench01"  # noqa: S105 - the sandbox's
USERNAME = "bench_members_bot"
CHAT_ID = -1_009_500_000_001
FIRST_USER = 8_000_000_000


def fresh(env: dict[str, str]) -> None:
    """An empty database and Redis db, migrated, and Django set up in this process on them."""
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f'DROP DATABASE IF EXISTS "{database}"'], check=True)  # fmt: skip
    subprocess.run([str(ROOT / "bin" / "services.sh"), database], check=True)
    subprocess.run(["redis-cli", "-u", env["REDIS_URL"], "flushdb"], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
    import django

    django.setup()


def make_bot() -> Any:
    from apps.bots import crypto
    from apps.bots.models import Bot

    return Bot.objects.create(
        telegram_id=int(TOKEN.split(":")[0]),
        username=USERNAME,
        encrypted_token=crypto.encrypt_token(TOKEN),
        webhook_secret_hash=crypto.hash_secret(crypto.new_webhook_secret()),
        features=["growth"],
    )


def redis_calls() -> dict[str, int]:
    """Redis's own count of commands served, per command (INFO commandstats)."""
    from gmbot.redis import get_redis

    stats = get_redis().info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Commands served between two readings, the reading itself (INFO) left out."""
    served = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    served["info"] = served.get("info", 1) - 1
    return {k: n for k, n in served.items() if n}


@contextmanager
def counted_sql() -> Iterator[list[str]]:
    """Every SQL statement this process sends while inside."""
    from django.db import connection

    statements: list[str] = []

    def count(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        statements.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        yield statements


# ---- activity ------------------------------------------------------------------------------


def message(update_id: int, message_id: int, user_id: int, date: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": date,
            "chat": {"id": CHAT_ID, "type": "supergroup", "title": "Bench"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
            "text": "hello",
        },
    }


def write_messages(bot: Any, members: int, rounds: int, first_id: int) -> tuple[int, float]:
    """Every member writes `rounds` messages through the observer; (messages, observer s)."""
    from telebot.types import Update

    from apps.members.observers import record_activity

    spent = 0.0
    n = first_id
    now = int(time.time())
    for _ in range(rounds):
        for member in range(members):
            n += 1
            update = Update.de_json(message(n, n, FIRST_USER + member, now))
            started = time.perf_counter()
            record_activity(update, bot)
            spent += time.perf_counter() - started
    return n - first_id, spent


def flush_and_report(label: str, members: int) -> None:
    from apps.members.services import activity

    before = redis_calls()
    with counted_sql() as statements:
        started = time.perf_counter()
        flushed = activity.do_flush()
        seconds = time.perf_counter() - started
    upserts = [s for s in statements if "INSERT INTO members_memberactivity" in s]
    print(f"flush ({label}): {flushed.members:,} members, {flushed.messages:,} messages in "
          f"{seconds:.2f} s = {flushed.rows / seconds:,.0f} member rows/s; {flushed.queries} SQL "
          f"statements ({len(statements)} seen through Django, the COPY beside them; "
          f"{len(upserts)} upsert of all the members); Redis "
          f"{delta(before, redis_calls())}")  # fmt: skip
    if flushed.rows != members:
        raise SystemExit(f"bench: {flushed.rows} rows written, {members} expected")


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the bench's own, so INFO commandstats counts only its commands."""
    import redis

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-members-redis-")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait(lambda: _pings(redis.Redis(port=port)), 10, "redis-server", retry_on=())
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def activity_run(args: argparse.Namespace) -> None:
    with private_redis() as redis_url:
        fresh(production_env(f"{BENCH_DB}_activity", redis_url, ENV_FILE="/dev/null"))
        activity_rounds(args)


def activity_rounds(args: argparse.Namespace) -> None:
    from apps.bots.context import context_for
    from apps.chats.models import Group
    from apps.members.models import MemberActivity

    row = make_bot()
    Group.objects.create(bot=row, chat_id=CHAT_ID, title="Bench")
    bot = context_for(row.pk)
    assert bot is not None
    print(f"bench: load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    last = 0
    for label in ("first flush: inserts", "second flush: updates"):
        before = redis_calls()
        count, spent = write_messages(bot, args.members, args.messages, last)
        last += count
        commands = delta(before, redis_calls())
        print(f"messages: {count:,} from {args.members:,} members; Redis commands "
              f"{commands} = {sum(commands.values()) / count:.2f} per message; observer "
              f"{1e6 * spent / count:.1f} µs per message", flush=True)  # fmt: skip
        flush_and_report(label, args.members)
    total = MemberActivity.objects.filter(message_count=2 * args.messages).count()
    print(f"members with {2 * args.messages} messages counted: {total:,} of {args.members:,}")


# ---- kicker --------------------------------------------------------------------------------


SEED_ACTIVITY = """
INSERT INTO members_memberactivity
    (group_id, user_id, is_bot, joined_at, first_seen_at, last_message_at, message_count,
     active_at, left_at, updated_at)
SELECT %s, u, false, at, at, at, 3, at, NULL, now()
FROM (SELECT u, now() - %s * interval '1 day' - random() * %s * interval '1 day'
                - interval '1 hour' AS at
      FROM unnest(%s::bigint[]) AS u) AS v
"""


def seed(group_id: int, users: list[int], within_days: float, older_than_days: float) -> None:
    """Tracked members active between `older_than_days` and that plus `within_days` ago."""
    from django.db import connection

    with connection.cursor() as cursor:
        for start in range(0, len(users), 20_000):
            batch = users[start : start + 20_000]
            cursor.execute(SEED_ACTIVITY, [group_id, older_than_days, within_days, batch])


def busiest_second(times: list[float]) -> int:
    """The most calls in any window of one second (what the sliding-window budget bounds)."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def sustained(times: list[float]) -> float:
    """Calls a second over the middle 80% of them."""
    times = sorted(times)
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9) - 1
    return (hi - lo) / (times[hi] - times[lo]) if hi > lo and times[hi] > times[lo] else 0.0


def kicker_run(args: argparse.Namespace) -> None:
    sandbox_port = free_port()
    env = production_env(
        f"{BENCH_DB}_kicker", f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}", ENV_FILE="/dev/null",
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        TELEGRAM_BULK_LIMIT=str(args.bulk_limit),
        TELEGRAM_CALLS_LIMIT=str(max(100, 2 * args.bulk_limit)),
    )  # fmt: skip
    env["LOG_LEVEL"] = "INFO"  # the worker says when it is ready, and how long each chunk took
    fresh(env)
    from django.db import connection

    from apps.chats.models import Group
    from apps.growth.models import GrowthProfile
    from apps.members.models import KickRun
    from apps.members.services import kicker
    from sandbox.client import Sandbox
    from tasks.low import start_kick_runs

    logs = Path(tempfile.mkdtemp(prefix="bench-members-"))
    with ExitStack() as stack:
        spawn(stack, env, logs, "sandbox",
              [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port",
               str(sandbox_port)])  # fmt: skip
        sb = Sandbox(f"http://127.0.0.1:{sandbox_port}", timeout=60)
        wait(lambda: _healthy(sb), 30, "sandbox", retry_on=())
        sb.create_bot(token=TOKEN, username=USERNAME)
        owner = int(sb.create_user("Owner")["id"])
        chat = int(sb.create_chat("supergroup", title="Bench", owner_id=owner)["id"])
        sb.add_bot(USERNAME, chat, status="administrator", can_restrict_members=True)
        print(f"bench: {args.inactive:,} silent members in the sandbox …", flush=True)
        silent = []
        for n in range(args.inactive):
            user = int(sb.create_user(f"Silent{n}")["id"])
            sb.set_member(chat, user, "administrator" if n < 5 else "member")
            silent.append(user)
        admins = set(silent[:5]) | {owner}
        row = make_bot()
        group = Group.objects.create(bot=row, chat_id=chat, title="Bench")
        GrowthProfile.objects.create(group=group, kick_after_days=30, kick_dry_run=args.dry_run)
        active = [FIRST_USER + n for n in range(args.members - args.inactive - 1)]
        seed(group.pk, active, within_days=29, older_than_days=0)
        seed(group.pk, [*silent, owner], within_days=50, older_than_days=40)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE members_memberactivity")
            cursor.execute("SELECT count(*) FROM members_memberactivity")
            tracked = cursor.fetchone()[0]
        print(f"bench: {tracked:,} tracked members, {len(silent) + 1:,} silent 40-90 days",
              flush=True)  # fmt: skip

        worker = spawn(stack, env, logs, "worker_low",
                       [sys.executable, "-m", "celery", "-A", "gmbot", "worker", "-Q", "low",
                        "-n", "low@bench", "--concurrency", "2", "--loglevel", "INFO"])  # fmt: skip
        wait(lambda: " ready." in (logs / "worker_low.log").read_text(), 120, "worker_low",
             retry_on=())  # fmt: skip
        first_call = sb.calls(bot=USERNAME)[-1]["seq"] if sb.calls(bot=USERNAME) else 0
        from django.utils import timezone

        cutoff = timezone.now() - timedelta(days=30)
        print("bench: the plan of a run's first chunk (EXPLAIN ANALYZE, before the run):")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + kicker.SELECT,
                           [group.pk, cutoff, kicker.EPOCH, 0, kicker.CHUNK])  # fmt: skip
            for (line,) in cursor.fetchall():
                print("    " + line)
        start_kick_runs.delay()
        run = wait(lambda: KickRun.objects.first(), 30, "the run's start", retry_on=())
        print(f"bench: run {run.pk}: {run.candidates:,} candidates", flush=True)
        budget = args.bulk_limit
        timeout = 2 * 2 * args.inactive / budget + 120

        def done() -> KickRun | None:
            current = KickRun.objects.get(pk=run.pk)
            return current if current.status != KickRun.Status.RUNNING else None

        finished = wait(done, timeout, "the run", interval=2, retry_on=())
        if worker.poll() is not None:
            raise SystemExit("bench: worker_low died")
        calls = [c for c in sb.calls(bot=USERNAME, since=first_call)
                 if c["method"] in ("banChatMember", "unbanChatMember")]  # fmt: skip
        touched = [c for c in calls if int(c["params"]["user_id"]) in admins]
        refused = [c for c in calls if c["status"] != 200]
        duration = finished.duration_seconds or 0.0
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
        print(f"run: {finished.status}{' (dry run)' if finished.dry_run else ''} in "
              f"{duration:.1f} s over {finished.chunks} chunks; {finished.candidates:,} "
              f"candidates, {finished.removed:,} removed, skipped "
              f"{json.dumps(finished.skipped)}, {finished.error_count} errors")  # fmt: skip
        if calls:
            rate = sustained([c["time"] for c in calls])
            print(f"Bot API calls: {finished.calls:,} ({len(calls):,} ban/unban, "
                  f"{len(refused)} refused) = {finished.calls / duration:.1f}/s over the run, "
                  f"{rate:.1f}/s sustained (middle 80%) against a bulk budget of "
                  f"{budget}/s = {100 * rate / budget:.1f}%; the busiest second held "
                  f"{busiest_second([c['time'] for c in calls])}")  # fmt: skip
        print(f"calls that touched an administrator or the owner: {len(touched)}")
        listed = set(finished.listed)
        print(f"removed (or listed) who were not silent: {len(listed - set(silent))}; silent "
              f"non-admins not removed: {len(set(silent) - admins - listed)}")  # fmt: skip
        print(f"chunk durations (s): median {_chunk_median(logs):.1f}")


def _healthy(sb: Any) -> bool:
    try:
        return bool(sb.health())
    except Exception:
        return False


def _chunk_median(logs: Path) -> float:
    took = [
        float(line.split("succeeded in ")[1].split("s:")[0])
        for line in (logs / "worker_low.log").read_text().splitlines()
        if "tasks.low.kick_chunk" in line and "succeeded in " in line
    ]
    return statistics.median(took) if took else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    act = commands.add_parser("activity", help="the observer and the flush")
    act.add_argument("--members", type=int, default=100_000)
    act.add_argument("--messages", type=int, default=3, help="per member, per round")
    kick = commands.add_parser("kicker", help="one run of the kicker on a large group")
    kick.add_argument("--members", type=int, default=100_000)
    kick.add_argument("--inactive", type=int, default=5_000)
    kick.add_argument("--bulk-limit", type=int, default=50, help="bulk calls a second")
    kick.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if args.command == "activity":
        activity_run(args)
    else:
        kicker_run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
