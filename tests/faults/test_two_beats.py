"""Two beat processes at once: a rolling deploy, a second compose replica (issue 10, item 5).

A periodic job every second, two real `celery beat` processes on the test database and Redis,
and no worker: what the beats send stays in the `low` queue, where the test counts it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.conftest import ROOT, child_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TASK = "tests.ops.jobs.fail_then_succeed"
LEASE = 3  # seconds a beat stays the leader without renewing (BEAT_LEADER_LEASE_SECONDS)


class Beat:
    def __init__(self, log: Path) -> None:
        self.log = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gmbot", "beat", "--loglevel", "INFO"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env=child_env(BEAT_LEADER_LEASE_SECONDS=str(LEASE)),
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Callable[[], Beat]]:
    started: list[Beat] = []

    def start() -> Beat:
        beat = Beat(tmp_path / f"beat-{len(started)}.log")
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


@pytest.fixture
def every_second() -> PeriodicTask:
    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    args = json.dumps(["beats", 0, "", ""])
    return PeriodicTask.objects.create(
        name="faults: every second", task=TASK, interval=interval, queue="low", args=args
    )


def sent(redis_client) -> list[str]:
    """The ids of the periodic task's jobs that the beats sent (they wait in `low`)."""
    messages = [json.loads(raw) for raw in redis_client.lrange("low", 0, -1)]
    return [m["headers"]["id"] for m in messages if m["headers"]["task"] == TASK]


def test_two_beats_send_each_periodic_job_once_and_one_takes_over_when_the_other_dies(
    every_second, start_beat, redis_client
):
    # given two beats running at once
    beats = [start_beat(), start_beat()]
    wait_until(lambda: len(sent(redis_client)) >= 2, timeout=30)

    # when they have run for 6 s, the job was sent once a second, not twice
    before = len(sent(redis_client))
    time.sleep(6)
    assert len(sent(redis_client)) - before <= 7

    # and when the beat that sends dies, the other one goes on within the lease
    leader = next(beat for beat in beats if "sends the schedule" in beat.log.read_text())
    os.kill(leader.process.pid, signal.SIGKILL)
    time.sleep(LEASE + 3)
    before = len(sent(redis_client))
    time.sleep(4)
    assert 3 <= len(sent(redis_client)) - before <= 5
