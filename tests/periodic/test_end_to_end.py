"""Periodic messages end to end (SPEC M6): defined and edited through the admin's form, sent
when the beat scheduler finds them due — its own due logic, through the broker, to a real worker
on `normal` — to the right groups with their buttons, every send recorded; the same run sent
twice goes out once; deleting the definition removes its beat row."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.periodic.models import PeriodicMessage, PeriodicRun, PeriodicSend
from gmbot.beat import LeaderScheduler
from gmbot.celery import app as celery_app
from tests.conftest import wait_until
from tests.periodic.conftest import ADD_URL, World, change_url, errors_of, form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKER_ENV = {"TELEGRAM_GROUP_SPACING_MS": "20"}
BUTTONS = [("Rules", "https://example.com/rules", 1, 1), ("Shop", "https://example.com/shop", 2, 1)]


def beat_tick(task: PeriodicTask) -> None:
    """One tick of the project's beat scheduler, with the row last run two days ago: what a
    running `celery beat` does when the message falls due."""
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=timezone.now() - timedelta(days=2))
    scheduler = LeaderScheduler(app=celery_app)
    try:
        scheduler.tick()
    finally:
        scheduler.close()


def clear_of_midnight() -> None:
    """A daily run's slot is the UTC day: start well inside one, so both of the test's beat
    ticks fall in the same scheduled run."""
    now = timezone.now()
    left = (now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)) - now
    if left < timedelta(seconds=90):
        time.sleep(left.total_seconds() + 1)


def idle(redis_client) -> bool:
    """Nothing waits in `normal` and no worker holds a job."""
    return redis_client.llen("normal") == 0 and redis_client.hlen("unacked") == 0


def test_a_message_edited_in_the_admin_is_sent_on_its_schedule_by_the_workers_once(
    world: World, admin_client, start_worker, redis_client
):
    cats, dogs, birds = world.groups
    world.sandbox.set_member(birds.chat_id, world.bot.username, "kicked")
    start_worker(["normal"], **WORKER_ENV)

    # given a message defined in the admin for Cats, then edited: to Dogs and Birds (which
    # removed the bot), daily, with two buttons
    clear_of_midnight()
    answer = admin_client.post(ADD_URL, form_data(world.bot, [cats], text="Old text"))
    assert answer.status_code == 302, errors_of(answer)
    message = PeriodicMessage.objects.get()
    answer = admin_client.post(change_url(message), form_data(
        world.bot, [dogs, birds], BUTTONS, text="Welcome! Read the rules.", every=1,
        period="days",
    ))  # fmt: skip
    assert answer.status_code == 302, errors_of(answer)
    task = PeriodicTask.objects.get(pk=message.task_id)
    assert (task.interval.every, task.interval.period) == (1, "days")

    # when beat finds it due
    beat_tick(task)

    # then the worker sends it to Dogs, with its buttons, and records Birds' refusal
    run = wait_until(lambda: PeriodicRun.objects.filter(finished_at__isnull=False).first(), 30)
    sent = world.sends()
    assert [int(c["params"]["chat_id"]) for c in sent] == [dogs.chat_id]
    assert sent[0]["params"]["text"] == "Welcome! Read the rules."
    assert sent[0]["params"]["reply_markup"]["inline_keyboard"] == [
        [{"text": "Rules", "url": "https://example.com/rules"}],
        [{"text": "Shop", "url": "https://example.com/shop"}],
    ]
    rows = {row.group_id: row for row in run.sends.all()}
    assert set(rows) == {dogs.pk, birds.pk}
    assert (rows[dogs.pk].status, rows[dogs.pk].message_id) == (
        PeriodicSend.Status.SENT, sent[0]["response"]["result"]["message_id"],
    )  # fmt: skip
    assert (rows[birds.pk].status, rows[birds.pk].description) == (
        PeriodicSend.Status.FAILED, "Forbidden: bot was kicked from the supergroup chat",
    )  # fmt: skip
    task.refresh_from_db()
    assert task.last_run_at is not None and task.total_run_count == 1

    # when the same run's job is delivered again (its task id) and beat sends another for it
    first_job = run.task_id
    redelivered = celery_app.send_task(task.task, args=[message.pk], task_id=first_job,
                                       ignore_result=False)  # fmt: skip
    beat_tick(task)
    assert redelivered.get(timeout=20) == run.pk
    wait_until(lambda: idle(redis_client), 20)
    task.refresh_from_db()
    assert task.total_run_count == 2

    # then it is the same run, and Dogs still has one message
    assert PeriodicRun.objects.count() == 1
    assert len(world.sends(chat_id=dogs.chat_id)) == 1

    # when the definition is deleted in the admin, its beat row goes too
    answer = admin_client.post(f"/admin/periodic/periodicmessage/{message.pk}/delete/",
                               {"post": "yes"})  # fmt: skip
    assert answer.status_code == 302
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_batches_of_one_run_side_by_side_on_two_workers_send_to_each_chat_once(
    world: World, start_worker
):
    # given a run to eight groups and a Telegram that takes a fifth of a second a message
    for n in range(5):
        world.add_group(f"Group {n}")
    message = PeriodicMessage.objects.create(bot=world.bot, name="Hello", text="Hello all",
                                             all_groups=True, every=1, period="hours")  # fmt: skip
    world.sandbox.fault("sendMessage", delay_ms=200)
    start_worker(["normal"], concurrency=2, **WORKER_ENV)
    start_worker(["normal"], concurrency=2, **WORKER_ENV)

    # when beat's job and three extra batch jobs for the same run go at once
    job = celery_app.send_task("tasks.normal.send_periodic_message", args=[message.pk],
                               ignore_result=False)  # fmt: skip
    run_id = job.get(timeout=20)
    for _ in range(3):
        celery_app.send_task("tasks.normal.send_periodic_batch", args=[run_id])

    # then the run finishes with every group sent to exactly once
    # (a job that found another's claim looks again later: it then finds the run over)
    wait_until(lambda: PeriodicRun.objects.get(pk=run_id).finished_at, 40)
    statuses = list(PeriodicSend.objects.filter(run_id=run_id).values_list("status", flat=True))
    assert statuses == ["sent"] * 8
    posted = [int(c["params"]["chat_id"]) for c in world.sends()]
    assert sorted(posted) == sorted(g.chat_id for g in world.groups)
