"""/metrics (SPEC O2): every web and worker process counted in one scrape, what only a query
knows asked at scrape time, and only allowed addresses or the token let in."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from apps.bots.models import Bot
from apps.ops.models import DeadLetter
from gmbot.celery import app as celery_app
from tests.conftest import wait_until
from tests.factories import GroupFactory


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def pids_that_counted(directory: Path, name: str) -> set[str]:
    """The processes whose own file in `directory` holds a non-zero sample of `name`."""
    found = set()
    for path in directory.glob("counter_*.db"):
        merged = MultiProcessCollector.merge([str(path)], accumulate=True)
        if any(s.name == name and s.value for family in merged for s in family.samples):
            found.add(path.stem.rsplit("_", 1)[1])
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_scrape_adds_up_every_web_process_and_a_worker(
    tmp_path, start_web, start_worker, make_bot
):
    # given two gunicorn workers and a Celery worker writing to one METRICS_DIR
    metrics_dir = tmp_path / "metrics"
    web = start_web(METRICS_DIR=str(metrics_dir))
    bot = make_bot()
    start_worker(["normal"], METRICS_DIR=str(metrics_dir))

    # when 60 webhook deliveries with a secret nobody has arrive at once, and the worker checks
    # the bot's health (a getMe)
    def deliver(_: int) -> int:
        return requests.post(
            f"{web.url}/api/webhooks/telegram", data=b"{}", timeout=10,
            headers={"X-Telegram-Bot-Api-Secret-Token": "nobody-has-this-secret"},
        ).status_code  # fmt: skip

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(deliver, range(60))) == {401}
    celery_app.send_task("tasks.normal.check_bots", queue="normal")
    wait_until(lambda: Bot.objects.filter(pk=bot.pk, checked_at__isnull=False).exists())

    # then one scrape counts all 60, from more than one web process, and the worker's call
    scraped = samples(requests.get(f"{web.url}/metrics", timeout=10).text)
    assert scraped[("bot_webhook_requests_total", (("status", "401"),))] == 60
    assert scraped[("bot_webhook_latency_seconds_count", ())] == 60
    assert scraped[("bot_api_calls_total", (("method", "getMe"), ("result", "ok")))] == 1
    [web_dir] = metrics_dir.glob("web-*")
    [worker_dir] = metrics_dir.glob("celery-*")
    assert len(pids_that_counted(web_dir, "bot_webhook_requests_total")) >= 2
    assert pids_that_counted(worker_dir, "bot_api_calls_total")
    # and what is known only by asking, at the same scrape
    assert scraped[("bot_db_connected", ())] == 1
    assert scraped[("bot_redis_connected", ())] == 1
    assert scraped[("bot_queue_depth", (("queue", "high"),))] == 0


@pytest.mark.django_db
def test_queue_depths_dead_letters_and_groups_are_asked_at_each_scrape(client, redis_client):
    # given three jobs waiting on low, two dead letters on high, one settled, and two groups
    for _ in range(3):
        celery_app.send_task("tasks.low.ping", queue="low")
    for n, status in enumerate(["dead", "dead", "replayed"]):
        DeadLetter.objects.create(
            task_name="tasks.high.process_update", task_id=f"t{n}", queue="high",
            exception_class="BadRequest", attempts=1, status=status,
            first_failed_at="2026-12-01T10:00Z", last_failed_at="2026-12-01T10:00Z",
        )  # fmt: skip
    GroupFactory.create_batch(2)

    # when Prometheus scrapes
    answer = client.get("/metrics")

    # then the queues, the dead letters still to act on and the active groups are there
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    scraped = samples(answer.content.decode())
    assert scraped[("bot_queue_depth", (("queue", "low"),))] == 3
    assert scraped[("bot_queue_unacked", ())] == 0
    assert scraped[("bot_dead_letters", (("queue", "high"),))] == 2
    assert scraped[("bot_dead_letters", (("queue", "low"),))] == 0
    assert scraped[("bot_active_groups", ())] == 2
    assert scraped[("bot_scrape_errors_total", ())] == 0
    for name in ("bot_cache_hits_total", "bot_cache_misses_total"):
        assert (name, ()) in scraped


@pytest.mark.django_db
def test_only_allowed_addresses_or_the_token_may_scrape(client, settings):
    # given scrapes allowed from 10.0.0.0/8 or with a token, and our own proxy at 127.0.0.1
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("10.0.0.0/8")]
    settings.METRICS_TOKEN = "scrape-token-for-the-test"
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]

    def status(**headers: str) -> int:
        return int(client.get("/metrics", **headers).status_code)

    # then an address outside it, without the token or with a wrong one, is refused
    assert status(REMOTE_ADDR="192.0.2.7") == 403
    assert status(REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer wrong-token") == 403
    # the token is enough from anywhere, and an allowed address needs none
    assert (
        status(REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer scrape-token-for-the-test")
        == 200
    )
    assert status(REMOTE_ADDR="10.1.2.3") == 200
    # behind our proxy, the address it appended counts, not what the client claimed before it
    assert status(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3") == 200
    assert status(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.7") == 403
    # and a proxy we do not trust is an address like any other
    assert status(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="10.1.2.3") == 403
