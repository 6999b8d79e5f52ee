"""The broker restarts with jobs in it (issue 10, item 3).

Redis runs as docker-compose.yml runs it (its `redis` service's options), on a port and in a
directory of the test's own, and is killed with SIGKILL: no shutdown, no last save.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import yaml

from gmbot.celery import app as celery_app
from tests.conftest import ROOT, RedisServer, wait_until
from tests.ops import jobs
from tests.ops.conftest import JOBS_WORKER_ENV

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def compose_redis_options() -> tuple[str, ...]:
    """The options docker-compose.yml gives redis-server (none: Redis's defaults)."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]
    command = service.get("command") or ["redis-server"]
    assert command[0] == "redis-server"
    return tuple(command[1:])


@pytest.fixture
def compose_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, compose_redis_options())
    server.start()
    yield server
    server.stop()


def test_jobs_queued_before_redis_is_killed_each_run_once_after_it_restarts(
    compose_redis, start_worker
):
    # given twenty jobs waiting in the queue, each answered 200 to Telegram by now
    keys = [f"test:faults:attempts:{uuid.uuid4().hex}" for _ in range(20)]
    with celery_app.connection_for_write(compose_redis.url) as connection:
        for key in keys:
            jobs.fail_then_succeed.apply_async(args=[key, 0, "TransientError", ""],
                                               queue="normal", connection=connection)  # fmt: skip

    # when Redis is killed and started again
    assert compose_redis.process is not None
    compose_redis.process.kill()
    compose_redis.process.wait()
    compose_redis.start()

    # then a worker runs every job, each once
    url = compose_redis.url
    start_worker(["normal"], REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url,
                 **JOBS_WORKER_ENV)  # fmt: skip
    client = redis.Redis.from_url(url)
    wait_until(lambda: all(client.llen(key) for key in keys), timeout=20)
    wait_until(lambda: client.hlen("unacked") == 0, timeout=5)
    assert [client.llen(key) for key in keys] == [1] * 20


def health_of_a_web_on(broker: RedisServer, start_web) -> requests.Response:
    web = start_web(CELERY_BROKER_URL=broker.url)
    return requests.get(f"{web.url}/health", timeout=10)


def test_health_fails_for_a_broker_that_would_lose_jobs_on_restart(spare_redis, start_web):
    answer = health_of_a_web_on(spare_redis, start_web)  # Redis without its append-only file

    assert answer.status_code == 503
    body = answer.json()
    assert body["checks"]["broker"] is True and body["checks"]["broker_durable"] is False
    assert "append-only file" in body["details"]["broker_durable"]


def test_health_passes_for_redis_run_as_compose_runs_it(compose_redis, start_web):
    answer = health_of_a_web_on(compose_redis, start_web)

    assert answer.status_code == 200
    assert answer.json()["checks"] == {
        "database": True, "migrations": True, "redis": True, "broker": True,
        "broker_durable": True,
    }  # fmt: skip
