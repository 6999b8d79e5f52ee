"""Dead letters that PostgreSQL refuses to store (issue 10, item 2).

jsonb and text columns refuse NUL and lone surrogates, which an update's text may carry (JSON
can say "\\u0000" and "\\ud800"). A real worker runs a job that Telegram refuses for good, so it
must become a dead letter at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.db import connection

from apps.ops.models import DeadLetter
from gmbot import counters
from tests.conftest import wait_until
from tests.faults import jobs
from tests.ops.conftest import JOBS_WORKER_ENV

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POISON = "nul \u0000, lone surrogate \ud800, and an emoji 🙂"
WORKER_ENV = {**JOBS_WORKER_ENV, "CELERY_WORKER_INCLUDE": "tests.ops.jobs,tests.faults.jobs"}


def send(text: str, times: int) -> str:
    key = f"test:faults:received:{uuid.uuid4().hex}"
    jobs.refuse.apply_async(args=[key, text, times], queue="normal")
    return key


def test_a_dead_letter_postgresql_cannot_store_as_it_is_is_stored_and_replays_unchanged(
    start_worker, admin_client
):
    start_worker(["normal"], **WORKER_ENV)
    key = send(POISON, times=1)

    # the job is dead-lettered, readable, its text's refused characters replaced
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=10)
    assert letter.status == "dead"
    assert letter.args == [key, "nul \ufffd, lone surrogate \ufffd, and an emoji 🙂", 1]
    assert "can't parse entities" in letter.description
    assert jobs.received(key) == [POISON]

    # and replayed, the job gets its exact text back
    answer = admin_client.post("/admin/dlq/normal/replay", {"ids": [letter.pk]},
                               content_type="application/json")  # fmt: skip
    assert [r["id"] for r in answer.json()["replayed"]] == [letter.pk]
    wait_until(lambda: len(jobs.received(key)) == 2, timeout=10)
    assert jobs.received(key) == [POISON, POISON]


@pytest.fixture
def dead_letters_refused() -> Iterator[None]:
    """PostgreSQL refuses every dead letter (a trigger on the test database's own table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "create function refuse_dead_letter() returns trigger language plpgsql as"
            " $$ begin raise exception 'dead letters refused by the test'; end $$;"
            " create trigger refuse_dead_letter before insert or update on ops_deadletter"
            " for each row execute function refuse_dead_letter()"
        )
    yield
    allow_dead_letters()


def allow_dead_letters() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "drop trigger if exists refuse_dead_letter on ops_deadletter;"
            " drop function if exists refuse_dead_letter()"
        )


def test_a_dead_letter_that_cannot_be_stored_is_loud_and_the_job_kept_until_it_can_be(
    sandbox, make_bot, start_worker, dead_letters_refused, redis_client
):
    # given the operators' chat, and PostgreSQL refusing dead letters
    ops_bot = make_bot()
    owner = sandbox.create_user("Olga")["id"]
    ops_chat = sandbox.create_chat("group", title="Ops", owner_id=owner)["id"]
    sandbox.add_bot(ops_bot.username, ops_chat)
    worker = start_worker(["normal"], OPS_CHAT_ID=str(ops_chat),
                          OPS_BOT_USERNAME=ops_bot.username, **WORKER_ENV)  # fmt: skip

    # when a job Telegram refuses for good cannot be dead-lettered, again and again
    key = send("plain text", times=100)
    wait_until(lambda: counters.read(counters.DEAD_LETTERS_NOT_STORED).get("normal", 0) >= 3)

    # then each failure is counted and logged as an ERROR, the operators are told once
    log = worker.log.read_text()
    assert log.count("ERROR") >= 3 and "could not store the dead letter of" in log
    told = sandbox.calls(method="sendMessage", chat_id=ops_chat)
    assert len(told) == 1 and "tests.faults.jobs.refuse" in told[0]["params"]["text"]
    assert "plain text" not in told[0]["params"]["text"]

    # and once PostgreSQL takes dead letters again, the job becomes one
    allow_dead_letters()
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=10)
    assert letter.task_name == "tests.faults.jobs.refuse" and letter.args[0] == key
