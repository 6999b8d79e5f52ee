from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from gmbot.celery import app as celery_app
from tests.conftest import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def durable_broker(tmp_path, monkeypatch):
    """A broker that keeps its jobs across a restart (tests/faults/test_broker_restart.py)."""
    server = RedisServer(tmp_path, ("--appendonly", "yes", "--maxmemory-policy", "noeviction"))
    server.start()
    monkeypatch.setitem(celery_app.conf, "broker_url", server.url)
    yield server
    server.stop()


def test_health_reports_database_redis_and_broker(client, durable_broker):
    answer = client.get("/health")

    assert answer.status_code == 200
    body = answer.json()
    assert body["checks"] == {
        "database": True, "migrations": True, "redis": True, "broker": True,
        "broker_durable": True,
    }  # fmt: skip
    assert body["uptime_seconds"] >= 0


def test_health_reports_unapplied_migrations(client):
    # given a database that lacks one migration (the test's transaction puts the row back)
    MigrationRecorder(connection).record_unapplied("ops", "0001_initial")

    answer = client.get("/health")

    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "degraded" and body["checks"]["migrations"] is False
    assert body["unapplied_migrations"] == 1
    assert body["fix"] == "python manage.py migrate"


def test_live_and_ready_answer(client):
    assert client.get("/live").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200


def test_health_endpoints_refuse_writes(client):
    assert client.post("/health").status_code == 405
