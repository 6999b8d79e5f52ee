#!/usr/bin/env python3
"""The REST API under gunicorn as the Procfile runs it (issue: REST API).

    python bench/api.py [--seconds 10] [--clients 50] [--groups 200]

Two figures, with DEBUG=0, gunicorn.conf.py's workers, database gmbot_bench_api and Redis db 12:
- throttling: 100 requests with one key, all released at once, against API_THROTTLE_RATE=60/min;
  how many got through (at most 60 may) and what the others were told;
- latency: wrk with --clients connections for --seconds on GET /api/groups (a page of 50 groups
  with their channels) with one key, the throttle on but too high to refuse (so its Redis round
  trip is in the figure): req/s and p50/p95/p99.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env, start_gunicorn  # noqa: E402

APP = "gmbot.wsgi:application"
BENCH_DB = "gmbot_bench_api"
BENCH_REDIS = "redis://127.0.0.1:6379/12"
OWNER = 7_990_000_001

SEED = """
from apps.bots import crypto
from apps.bots.models import Bot, Owner
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.guard.models import GroupProtection
Owner.objects.filter(telegram_id={owner}).delete()
Bot.objects.filter(telegram_id=7990000002).delete()
owner = Owner.objects.create(telegram_id={owner}, username="bench_owner")
bot = Bot(telegram_id=7990000002, username="bench_api_bot", owner=owner)
bot.set_token("7990000002:bench")
bot.webhook_secret_hash = crypto.hash_secret(crypto.new_webhook_secret())
bot.save()
channel = Channel.objects.create(bot=bot, chat_id=-1009000000000, title="News", username="news")
for n in range({groups}):
    group = Group.objects.create(bot=bot, owner=owner, chat_id=-1008000000000 - n, title=f"G{{n}}")
    GroupProtection.objects.create(group=group)
    GroupChannelLink.objects.create(group=group, channel=channel)
"""

WRK_SCRIPT = """
wrk.headers["X-API-Key"] = "KEY"
done = function(summary, latency, requests)
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%d %.3f\\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("requests %d\\nnon2xx %d\\ntimeouts %d\\n", summary.requests,
                         summary.errors.status, summary.errors.timeout))
end
"""


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip


def burst(url: str, key: str, count: int) -> tuple[Counter[int], list[str]]:
    """`count` requests released together; their statuses and the Retry-After of the 429s."""
    start = threading.Barrier(count)

    def send(_: int) -> tuple[int, str]:
        start.wait()
        answer = requests.get(url, headers={"X-API-Key": key}, timeout=60)
        return answer.status_code, answer.headers.get("Retry-After", "")

    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(send, range(count)))
    return Counter(status for status, _ in answers), [after for _, after in answers if after]


def run_wrk(url: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        # A request slower than 10 s counts as a timeout, not as a latency: say so if any.
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    figures = dict(re.findall(r"^(p\d+|requests|non2xx|timeouts) ([\d.]+)$", out, re.M))
    rps = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec:"))
    return {
        "rps": float(rps),
        **{
            name: float(figures[name])
            for name in ("p50", "p95", "p99", "requests", "non2xx", "timeouts")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--groups", type=int, default=200)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk not found (apt-get install wrk)")

    import redis

    env = production_env(BENCH_DB, BENCH_REDIS)
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "shell", "-c", SEED.format(owner=OWNER, groups=args.groups))
    key = manage(env, "createapikey", "--owner", str(OWNER), "--name", "bench").strip()
    workers = env.get("WEB_CONCURRENCY") or "2 x cores + 1"
    print(f"gunicorn: {workers} sync workers (gunicorn.conf.py), DEBUG=0; {args.groups} groups")

    port = free_port()
    web = start_gunicorn(APP, dict(env, API_THROTTLE_RATE="60/min"), port)
    try:
        statuses, retry_after = burst(f"http://127.0.0.1:{port}/api/groups", key, 100)
    finally:
        web.terminate()
        web.wait(timeout=20)
    through = statuses.get(200, 0)
    print(f"\nthrottling, 100 concurrent requests with one key against 60/min: {through} got "
          f"through{' (at most 60 may)' if through <= 60 else ' — MORE THAN 60'}; "
          f"answers {dict(sorted(statuses.items()))}; Retry-After "
          f"{min(retry_after, default='-')}..{max(retry_after, default='-')} s")  # fmt: skip

    workdir = Path(tempfile.mkdtemp(prefix="gmbot-bench-api-"))
    script = workdir / "key.lua"
    # A second key, so the burst's window does not count here; the limit is too high to refuse.
    key = manage(env, "createapikey", "--owner", str(OWNER), "--name", "bench-latency").strip()
    script.write_text(WRK_SCRIPT.replace("KEY", key))
    port = free_port()
    web = start_gunicorn(APP, dict(env, API_THROTTLE_RATE="1000000/min"), port)
    try:
        url = f"http://127.0.0.1:{port}/api/groups"
        run_wrk(url, script, args.clients, 2)  # warm-up: connections, caches, bytecode
        result = run_wrk(url, script, args.clients, args.seconds)
    finally:
        web.terminate()
        web.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nGET /api/groups (50 groups a page), {args.clients} clients, {args.seconds} s: "
          f"{result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p95 {result['p95']:.2f} ms, "
          f"p99 {result['p99']:.2f} ms; {result['requests']:.0f} requests, "
          f"{result['non2xx']:.0f} not 200, {result['timeouts']:.0f} timed out")  # fmt: skip
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
