"""Staff-only dead-letter endpoints and the replay service (SPEC Q3)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.ops import services
from apps.ops.models import DeadLetter

_ids = count(1)


def dead_letter(queue: str = "normal", **fields: Any) -> DeadLetter:
    n = next(_ids)
    now = timezone.now()
    values: dict[str, Any] = {
        "task_name": "tasks.normal.ping",
        "task_id": f"task-{n}-{now.timestamp()}",
        "args": [n],
        "kwargs": {},
        "queue": queue,
        "exception_class": "apps.telegram.errors.TransientError",
        "description": "Internal Server Error",
        "attempts": 4,
        "first_failed_at": now - timedelta(seconds=30),
        "last_failed_at": now,
        **fields,
    }
    return DeadLetter.objects.create(**values)


def broker_messages(redis_client, queue: str) -> list[dict[str, Any]]:
    """The jobs waiting in a queue on the Redis broker, as Celery wrote them."""
    return [json.loads(raw) for raw in redis_client.lrange(queue, 0, -1)]


@pytest.mark.django_db
def test_staff_see_a_queues_dead_letters_newest_first_with_counts(admin_client):
    # given dead letters in two queues, one of them already replayed
    older, newer = dead_letter("low"), dead_letter("low")
    dead_letter("low", status="replayed")
    dead_letter("high")

    # when staff ask for the low queue
    answer = admin_client.get("/admin/dlq/low/")

    # then they get its dead ones, newest first, with the counts per status
    assert answer.status_code == 200
    body = answer.json()
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["counts"] == {"dead": 2, "replayed": 1, "discarded": 0, "total": 3}
    assert body["results"][0]["description"] == "Internal Server Error"
    assert body["results"][0]["queue"] == "low"
    assert (body["page"], body["pages"], body["count"]) == (1, 1, 2)


@pytest.mark.django_db
def test_the_listing_is_paginated_and_filterable_by_status(admin_client):
    letters = [dead_letter("normal") for _ in range(5)]
    dead_letter("normal", status="discarded")

    page2 = admin_client.get("/admin/dlq/normal/?per_page=2&page=2").json()
    everything = admin_client.get("/admin/dlq/normal/?status=all&per_page=200").json()

    assert [row["id"] for row in page2["results"]] == [letters[2].pk, letters[1].pk]
    assert (page2["pages"], page2["count"]) == (3, 5)
    assert everything["count"] == 6
    assert admin_client.get("/admin/dlq/normal/?page=9").json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?status=lost", "?page=0", "?page=x", "?per_page=1000"])
def test_bad_listing_parameters_are_answered_400_with_the_reason(admin_client, query):
    answer = admin_client.get(f"/admin/dlq/normal/{query}")
    assert answer.status_code == 400
    assert answer.json()["error"]


@pytest.mark.django_db
def test_non_staff_get_403_and_an_unknown_queue_404(client, django_user_model, admin_client):
    member = django_user_model.objects.create_user("member", password="pw")
    assert client.get("/admin/dlq/high/").status_code == 403
    assert client.post("/admin/dlq/high/replay", {"all": True}, "application/json").status_code == (
        403
    )
    client.force_login(member)
    assert client.get("/admin/dlq/high/").json() == {"error": "staff only"}

    answer = admin_client.get("/admin/dlq/urgent/")
    assert answer.status_code == 404
    assert "unknown queue 'urgent'" in answer.json()["error"]
    assert (
        admin_client.post("/admin/dlq/urgent/replay", {"all": True}, "application/json").status_code
        == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, reason",
    [
        ("{not json", "must be JSON"),
        ("[1, 2]", "JSON object"),
        ("{}", '"ids"'),
        ('{"ids": []}', "non-empty"),
        ('{"ids": ["1"]}', "positive integers"),
        ('{"all": false}', "must be true"),
        ('{"all": true, "ids": [1]}', "not both"),
        ('{"everything": true}', "unknown fields"),
    ],
)
def test_a_bad_replay_body_is_answered_400_with_what_is_wrong(admin_client, body, reason):
    answer = admin_client.post("/admin/dlq/high/replay", body, content_type="application/json")
    assert answer.status_code == 400
    assert reason in answer.json()["error"]


@pytest.mark.django_db
def test_the_replay_endpoint_keeps_csrf_protection(django_user_model):
    from django.test import Client

    staff = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    answer = browser.post("/admin/dlq/high/replay", {"all": True}, "application/json")
    assert answer.status_code == 403


@pytest.mark.django_db
def test_replay_all_sends_each_dead_job_of_the_queue_to_its_queue(admin_client, redis_client):
    # given two dead letters on high, one on low, one already discarded on high
    first = dead_letter("high", task_name="tasks.high.ping", args=[1, "a"], kwargs={"x": 1})
    second = dead_letter("high", task_name="tasks.high.ping")
    dead_letter("low")
    dead_letter("high", status="discarded")
    redis_client.delete("high", "low")

    # when all of high is replayed
    answer = admin_client.post("/admin/dlq/high/replay", {"all": True}, "application/json")

    # then exactly the two dead jobs of high were sent to high, with their original arguments
    body = answer.json()
    assert [row["id"] for row in body["replayed"]] == [first.pk, second.pk]
    sent = broker_messages(redis_client, "high")
    assert len(sent) == 2 and redis_client.llen("low") == 0
    by_id = {message["headers"]["id"]: message for message in sent}
    job = by_id[body["replayed"][0]["task_id"]]
    assert job["headers"]["task"] == "tasks.high.ping"
    args, kwargs, _ = json.loads(base64.b64decode(job["body"]))
    assert (args, kwargs) == ([1, "a"], {"x": 1})
    assert DeadLetter.objects.filter(queue="high", status="replayed").count() == 2


@pytest.mark.django_db
def test_ids_of_another_queue_or_not_dead_are_skipped(admin_client, redis_client):
    other = dead_letter("low")
    discarded = dead_letter("high", status="discarded")
    answer = admin_client.post(
        "/admin/dlq/high/replay", {"ids": [other.pk, discarded.pk, 999999]}, "application/json"
    )
    assert answer.json()["skipped"] == [other.pk, discarded.pk, 999999]
    assert answer.json()["replayed"] == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_replays_of_the_same_row_send_it_once(redis_client):
    # given one dead letter
    letter = dead_letter("normal")
    redis_client.delete("normal")
    barrier = threading.Barrier(8)
    results: list[services.ReplayResult] = []

    def replay() -> None:
        try:
            barrier.wait()
            results.append(
                services.do_replay("normal", services.ReplaySelection(all=False, ids=(letter.pk,)))
            )
        finally:
            connection.close()

    # when eight operators replay it at the same moment
    threads = [threading.Thread(target=replay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then one of them sent it, and the broker holds it once
    assert sum(len(result.replayed) for result in results) == 1
    assert redis_client.llen("normal") == 1


@pytest.mark.django_db
def test_admin_actions_replay_and_discard(admin_client, redis_client):
    to_replay, to_discard = dead_letter("low"), dead_letter("normal")
    url = "/admin/ops/deadletter/"

    admin_client.post(url, {"action": "replay", "_selected_action": [to_replay.pk]})
    admin_client.post(url, {"action": "discard", "_selected_action": [to_discard.pk]})

    to_replay.refresh_from_db()
    to_discard.refresh_from_db()
    assert to_replay.status == "replayed" and to_replay.replayed_task_id
    assert to_discard.status == "discarded" and to_discard.discarded_at
    assert admin_client.get(url, {"queue": "low", "status": "replayed"}).status_code == 200
    assert admin_client.get(f"{url}{to_replay.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_settled_dead_letters_are_purged_after_30_days_and_dead_ones_kept():
    old = timezone.now() - timedelta(days=31)
    dead_letter(status="replayed", replayed_at=old)
    dead_letter(status="discarded", discarded_at=old)
    recent = dead_letter(status="replayed", replayed_at=timezone.now() - timedelta(days=29))
    still_dead = dead_letter(last_failed_at=old, first_failed_at=old)

    assert services.purge_dead_letters() == 2
    assert set(DeadLetter.objects.values_list("pk", flat=True)) == {recent.pk, still_dead.pk}


def test_the_dlq_index_lists_every_queue_with_its_counts(admin_client):
    dead_letter("high")
    dead_letter("low", status=DeadLetter.Status.REPLAYED)

    answer = admin_client.get("/admin/dlq/")

    assert answer.status_code == 200
    queues = {entry["queue"]: entry for entry in answer.json()["queues"]}
    assert list(queues) == ["high", "normal", "low"]
    assert queues["high"]["counts"]["dead"] == 1 and queues["high"]["counts"]["total"] == 1
    assert queues["low"]["counts"]["replayed"] == 1 and queues["normal"]["counts"]["total"] == 0
    assert queues["low"]["url"] == "/admin/dlq/low/"
    assert queues["low"]["replay_url"] == "/admin/dlq/low/replay"


def test_the_dlq_index_is_staff_only(client):
    assert client.get("/admin/dlq/").status_code == 403
