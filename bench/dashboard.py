#!/usr/bin/env python3
"""The staff dashboard and the group list with 10,000 groups (issue: operators and staff).

    python bench/dashboard.py [--groups 10000] [--bots 20] [--members 50000] [--runs 20]

Seeds database gmbot_bench_dashboard (Redis db 10) with that many groups across the bots, each
protected (every 10th paused) with a channel, the members' verdicts, 100 dead letters and a day of
Bot API call counts; then requests the admin's index (the dashboard) and the group list as a
logged-in staff member through Django's whole stack (middleware, sessions, templates), DEBUG=0.
Prints the number of queries per page and the median and worst time of --runs requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import production_env  # noqa: E402

BENCH_DB = "gmbot_bench_dashboard"
BENCH_REDIS = "redis://127.0.0.1:6379/10"


def seed(groups: int, bots: int, members: int) -> None:
    from django.utils import timezone

    from apps.bots.models import Bot, Owner
    from apps.chats.models import Channel, Group, GroupChannelLink, GroupMember
    from apps.guard.models import GroupProtection, MemberState
    from apps.ops.models import DeadLetter
    from apps.telegram import usage

    now = timezone.now()
    Bot.objects.all().delete()
    DeadLetter.objects.all().delete()
    owner, _ = Owner.objects.get_or_create(telegram_id=7_980_000_000, username="bench_owner")
    rows = []
    for n in range(bots):
        bot = Bot(telegram_id=7_980_000_001 + n, username=f"bench_dash{n}_bot", owner=owner)
        bot.set_token(f"{bot.telegram_id}:bench-dashboard")
        bot.rotate_webhook_secret()
        rows.append(bot)
    made = Bot.objects.bulk_create(rows)
    channels = Channel.objects.bulk_create(
        [
            Channel(bot=b, chat_id=-1_009_000_000_000 - n, username=f"news{n}")
            for n, b in enumerate(made)
        ]
    )
    group_rows = Group.objects.bulk_create(
        [
            Group(bot=made[n % bots], owner=owner, chat_id=-1_008_000_000_000 - n, title=f"G{n}")
            for n in range(groups)
        ],
        batch_size=2000,
    )
    GroupProtection.objects.bulk_create(
        [
            GroupProtection(group=g, paused_at=now if n % 10 == 0 else None)
            for n, g in enumerate(group_rows)
        ],
        batch_size=2000,
    )
    GroupChannelLink.objects.bulk_create(
        [GroupChannelLink(group=g, channel=channels[n % bots]) for n, g in enumerate(group_rows)],
        batch_size=2000,
    )
    GroupMember.objects.bulk_create(
        [
            GroupMember(group=group_rows[n % groups], user_id=1_000_000 + n, last_seen_at=now)
            for n in range(members)
        ],
        batch_size=5000,
    )
    MemberState.objects.bulk_create(
        [
            MemberState(
                group=group_rows[n % groups],
                user_id=1_000_000 + n,
                checked_at=now,
                status="restricted" if n % 7 == 0 else "verified",
            )
            for n in range(members)
        ],
        batch_size=5000,
    )
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                task_name="tasks.high.process_update",
                task_id=f"bench-{n}",
                queue=("high", "normal", "low")[n % 3],
                exception_class="BadRequest",
                attempts=1,
                first_failed_at=now,
                last_failed_at=now,
            )
            for n in range(100)
        ]
    )
    for bot in made:
        for method in ("sendMessage", "restrictChatMember", "getChatMember", "deleteMessage"):
            for _ in range(5):
                usage.count(bot.telegram_id, method, "ok")
            usage.count(bot.telegram_id, method, "bad_request")
    usage.flush()


def measure(client: object, path: str, runs: int) -> tuple[int, float, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200  # type: ignore[attr-defined]
    queries = len(captured)  # read now: the next request resets the connection's log
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
    return queries, statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    os.environ.update(production_env(BENCH_DB, BENCH_REDIS))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client, override_settings

    redis.Redis.from_url(BENCH_REDIS).flushdb()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed(args.groups, args.bots, args.members)
    took = time.perf_counter() - started
    print(f"seeded {args.groups} groups, {args.bots} bots, {args.members} members in "
          f"{took:.1f}s; DEBUG=0, {args.runs} requests a page")  # fmt: skip

    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    from apps.bots.models import Bot

    one_bot = Bot.objects.values_list("pk", flat=True).first()
    # No collectstatic here: the pages' static URLs are built without the manifest.
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": plain}}  # fmt: skip
    with override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(staff)
        for title, path in (("dashboard (admin index)", "/admin/"),
                            ("group list (100 a page)", "/admin/chats/group/"),
                            ("one bot's dashboard", f"/admin/?bot={one_bot}")):  # fmt: skip
            queries, median, worst = measure(client, path, args.runs)
            print(f"{title:28} {queries:3d} queries  median {median:7.1f} ms  max {worst:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
