"""Each queue is consumed only by the workers started on it (SPEC Q1, Architecture)."""

from __future__ import annotations

import pytest
from celery.exceptions import TimeoutError as ResultTimeout

import celeryconfig
from gmbot.celery import app
from tasks import high, low, normal

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "queue, task", [("high", high.ping), ("normal", normal.ping), ("low", low.ping)]
)
def test_task_is_executed_by_the_worker_of_its_queue(start_worker, redis_client, queue, task):
    # given a worker consuming only this queue
    worker = start_worker([queue])

    # when a task routed to the queue is sent
    answer = task.delay().get(timeout=20)

    # then that worker ran it, taking it from that queue
    assert answer == {"hostname": worker.hostname, "queue": queue}


def test_a_worker_never_takes_tasks_of_another_queue(start_worker, redis_client):
    # given a worker on `high` only
    start_worker(["high"])

    # when tasks for `normal` and `low` are sent
    pending = [normal.ping.delay(), low.ping.delay()]

    # then they stay queued where they were routed, untouched
    with pytest.raises(ResultTimeout):
        pending[0].get(timeout=2)
    assert redis_client.llen("normal") == 1
    assert redis_client.llen("low") == 1
    assert not pending[1].ready()


def test_every_registered_task_routes_to_a_declared_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.startswith("tasks.")]
    assert ours, "no project task is registered"
    for name in ours:
        route = app.amqp.router.route({}, name)
        assert route["queue"].name in celeryconfig.QUEUE_NAMES, name
        assert name.split(".")[1] == route["queue"].name, f"{name} lives in the wrong module"


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule
    for entry_name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, entry_name
        assert entry["options"]["expires"] > 0, f"{entry_name} has no expiry"


def test_queues_are_declared_once_and_never_created_on_the_fly():
    assert [queue.name for queue in app.conf.task_queues] == ["high", "normal", "low"]
    assert app.conf.task_create_missing_queues is False
    with pytest.raises(Exception, match="missing from task_queues"):
        app.send_task("tasks.elsewhere.job", queue="nowhere")


def test_jobs_are_acknowledged_late_and_survive_a_lost_worker():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    # a lost worker's jobs run elsewhere within minutes, and no job is held long enough to be
    # handed out twice (tests/faults/test_lost_worker.py)
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility <= 600
    assert celeryconfig.MAX_HELD_COUNTDOWN + 2 * conf.task_time_limit < visibility
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert conf.CELERY_DB_REUSE_MAX
