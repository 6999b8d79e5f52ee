from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_database_redis_and_broker(client):
    answer = client.get("/health")

    assert answer.status_code == 200
    body = answer.json()
    assert body["checks"] == {"database": True, "redis": True, "broker": True}
    assert body["uptime_seconds"] >= 0


def test_live_and_ready_answer(client):
    assert client.get("/live").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 200


def test_health_endpoints_refuse_writes(client):
    assert client.post("/health").status_code == 405
