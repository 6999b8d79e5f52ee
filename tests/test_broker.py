"""The Redis broker's channel keeps one redis-py client (gmbot/broker.py), and moves jobs as
kombu's own transport does."""

from __future__ import annotations

import subprocess
import sys

from gmbot import broker
from gmbot.celery import app as celery_app
from tests.conftest import ROOT


def test_a_redis_broker_channel_reuses_one_client_until_its_pool_changes():
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)

        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()

        # a lost connection gives the channel a new pool: the kept client is not reused
        channel._pool = None
        with channel.conn_or_acquire() as third:
            assert third is not first
            assert third.connection_pool is channel.pool


def test_a_job_goes_through_the_queue_and_is_acknowledged(redis_client):
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue("gmbot-broker-test")
        try:
            queue.put({"n": 1})
            message = queue.get(timeout=5)
            assert message.payload == {"n": 1}
            unacked = queue.channel.unacked_key
            assert redis_client.hlen(unacked) == 1  # delivered, held until acknowledged
            message.ack()
            assert redis_client.hlen(unacked) == 0
        finally:
            queue.clear()
            queue.close()


def test_any_other_broker_keeps_its_own_transport():
    code = "from gmbot.celery import app; print(app.conf.broker_transport)"
    for url, expected in (
        ("amqp://guest:guest@127.0.0.1:5672//", "None"),
        ("redis://127.0.0.1:6379/0", "gmbot.broker:Transport"),
        ("rediss://127.0.0.1:6380/0", "gmbot.broker:Transport"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
            env={"ENV_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "CELERY_BROKER_URL": url},
        ).stdout  # fmt: skip
        assert out.split()[-1] == expected, (url, out)
