"""Per-key throttling that holds across every web process (SPEC A1), with Retry-After."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from apps.api import throttling
from tests.api.conftest import call
from tests.conftest import free_port
from tests.factories import OwnerFactory


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_requests_in_several_processes_against_60_a_minute_let_60_through(
    start_web, make_key, redis_client, tmp_path
):
    # given gunicorn with four worker processes, each logging which process answered
    key = make_key(OwnerFactory())
    access_log = tmp_path / "access.log"
    web = start_web(
        API_THROTTLE_RATE="60/min",
        WEB_CONCURRENCY="4",
        WEB_ACCESS_LOG=str(access_log),
        GUNICORN_CMD_ARGS="--access-logformat '%(p)s %(s)s %(U)s'",
    )
    start = threading.Barrier(100)

    def send(_: int) -> requests.Response:
        start.wait()
        return requests.get(f"{web.url}/api/groups", headers={"X-API-Key": key}, timeout=60)

    # when 100 requests with one key arrive at once
    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(send, range(100)))

    # then exactly the limit got through, the rest were told when to come back
    assert Counter(answer.status_code for answer in answers) == {200: 60, 429: 40}
    for refused in (answer for answer in answers if answer.status_code == 429):
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["code"] == "throttled"
    # and they were answered by more than one process, so no process-local count could do this
    served = [line.split() for line in access_log.read_text().splitlines() if "/api/groups" in line]
    assert len({pid for pid, status, _ in served if status == "200"}) >= 2


@pytest.mark.django_db
def test_a_throttled_key_waits_while_other_keys_go_on(client, tenants, settings, redis_client):
    settings.API_THROTTLE_RATE = "2/min"
    a, b = tenants

    answers = [call(client, a.key, "/api/groups").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    refused = call(client, a.key, "/api/groups")
    assert 59 <= int(refused["Retry-After"]) <= 60
    assert call(client, b.key, "/api/groups").status_code == 200


@pytest.mark.django_db
def test_a_request_without_a_valid_key_is_refused_before_it_is_counted(
    client, tenants, settings, redis_client
):
    settings.API_THROTTLE_RATE = "1/min"
    a, _ = tenants

    assert client.get("/api/groups").status_code == 401
    assert call(client, a.key.replace(".", ".x"), "/api/groups").status_code == 401
    assert call(client, a.key, "/api/groups").status_code == 200


@pytest.mark.django_db
def test_without_redis_requests_pass_unthrottled_and_a_warning_is_logged(
    client, tenants, settings, monkeypatch, caplog
):
    settings.API_THROTTLE_RATE = "1/min"
    a, _ = tenants
    nobody = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(throttling, "get_redis", lambda: nobody)
    monkeypatch.setattr(throttling, "_script", None)
    monkeypatch.setattr(throttling, "_redis_skipped_until", 0.0)

    with caplog.at_level(logging.WARNING, logger="apps.api.throttling"):
        answers = [call(client, a.key, "/api/groups").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    [warning] = caplog.records  # once, not once a request
    assert "API throttle unavailable" in warning.getMessage()


@pytest.mark.parametrize(
    ("rate", "parsed"), [("60/min", (60, 60)), ("5/s", (5, 1)), ("1000/day", (1000, 86400))]
)
def test_rates_read_as_count_per_period(rate, parsed):
    assert throttling.parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["60", "60/fortnight", "0/min", "-1/min"])
def test_a_rate_that_is_not_one_is_refused(rate):
    with pytest.raises(ValueError, match="API_THROTTLE_RATE"):
        throttling.parse_rate(rate)
