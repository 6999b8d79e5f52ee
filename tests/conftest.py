"""Shared fixtures: real PostgreSQL and Redis, real Celery workers, the sandbox over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from gmbot.celery import app as celery_app
from gmbot.redis import get_redis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis() -> None:
    """The tests own their Redis database (REDIS_URL in `make test`); start it empty."""
    get_redis().flushdb()


@pytest.fixture
def redis_client():
    client = get_redis()
    yield client
    client.flushdb()


def database_url_for_children() -> str:
    """The test database, as a URL a child process (a worker) can use."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_children(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=celery_app.conf.broker_url,
        CELERY_RESULT_BACKEND=str(celery_app.conf.result_backend),
        TELEGRAM_API_URL=settings.TELEGRAM_API_URL,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A `celery worker` subprocess consuming the given queues, as the Procfile runs them."""

    def __init__(self, queues: list[str], concurrency: int, pool: str, log: Path) -> None:
        self.hostname = f"test-{'-'.join(queues)}-{uuid.uuid4().hex[:6]}@localhost"
        self.log = log
        command = [
            sys.executable, "-m", "celery", "-A", "gmbot", "worker",
            "-Q", ",".join(queues), "-n", self.hostname, "-P", pool,
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle",
            "--without-gossip",
        ]  # fmt: skip
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(), stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            if celery_app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        raise RuntimeError(f"worker not ready:\n{self.log.read_text()[-3000:]}")

    def child_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes; every one is stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(queues: list[str], concurrency: int = 1, pool: str = "prefork") -> WorkerProcess:
        worker = WorkerProcess(queues, concurrency, pool, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
