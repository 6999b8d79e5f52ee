"""A Bot API call whose answer does not come within the read timeout (issue 10, item 7).

Telegram may have acted on such a call or not. The sandbox acts on it after a delay longer than
the worker's read timeout (1 s here), so the call did happen, but its answer came too late.
"""

from __future__ import annotations

import time

import pytest

from apps.ops.models import DeadLetter
from gmbot import counters
from tasks.high import process_update
from tests.conftest import wait_until
from tests.guard.conftest import Guarded, protected, world  # noqa: F401 - fixtures used below

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"TELEGRAM_READ_TIMEOUT": "1", "TASK_RETRY_BACKOFF_BASE": "0.2"}
LATE = 2000  # ms the sandbox takes to answer: the call is done, the answer comes too late


@pytest.fixture(autouse=True)
def _no_state_from_earlier_tests(redis_client):
    redis_client.flushdb()  # bot ids repeat from test to test, and so would their caches


def run_through_a_worker(bot_id: int, action: dict, sandbox) -> None:
    ids = set(action["update_ids"])
    for entry in sandbox.updates():
        if entry["update_id"] in ids:
            process_update.apply_async(args=[bot_id, entry["update"]], queue="high")


def unknown_outcomes() -> dict[str, int]:
    return counters.read(counters.TELEGRAM_UNKNOWN_OUTCOMES)


def test_a_send_that_timed_out_is_not_sent_again_and_waits_as_a_dead_letter(
    sandbox, make_bot, start_worker
):
    # given a user of the bot, and Telegram answering the next sendMessage too late
    bot = make_bot()
    ann = sandbox.create_user("Ann")["id"]
    sandbox.start(ann, bot.username)
    start_worker(["high"], **WORKER_ENV)
    sandbox.fault("sendMessage", delay_ms=LATE, times=1)

    # when the user asks for help
    run_through_a_worker(bot.pk, sandbox.message(ann, None, "/help", bot=bot.username), sandbox)

    # then the answer went out once: the job waits as a dead letter that says why
    def sent() -> list[int]:
        return [call["status"] for call in sandbox.calls(method="sendMessage", chat_id=ann)]

    wait_until(lambda: DeadLetter.objects.exists() or len(sent()) > 1, timeout=15)
    time.sleep(1)  # time for a repeat, were there one
    assert sent() == [200]
    letter = DeadLetter.objects.get()
    assert letter.exception_class == "apps.telegram.errors.OutcomeUnknown"
    assert "may have" in letter.description
    assert unknown_outcomes() == {"sendMessage:not_repeated": 1}


def test_a_restrict_that_timed_out_is_repeated_and_the_repeat_counted(
    protected: Guarded,  # noqa: F811 - the fixture imported above
    sandbox,
    start_worker,
):
    # given a non-subscriber in a protected group, and Telegram answering the next restrict late
    nick = protected.user("Nick", subscribed=False)
    start_worker(["high"], **WORKER_ENV)
    sandbox.fault("restrictChatMember", delay_ms=LATE, times=1)

    # when Nick writes
    said = sandbox.message(nick, protected.group, "spam")
    run_through_a_worker(protected.bot.pk, said, sandbox)

    # then the restrict is repeated (it is safe to), Nick is muted and warned once, and counted
    def restricts() -> list[int]:
        calls = sandbox.calls(method="restrictChatMember", chat_id=protected.group)
        return [call["status"] for call in calls]

    wait_until(lambda: len(protected.warnings()) == 1 and len(restricts()) == 2, timeout=15)
    assert restricts() == [200, 200]
    assert protected.status(nick) == "restricted"
    assert len(protected.warnings()) == 1
    assert unknown_outcomes() == {"restrictChatMember:repeated": 1}
    assert not DeadLetter.objects.exists()
