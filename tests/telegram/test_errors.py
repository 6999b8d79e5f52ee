"""Telegram's answers are classified once, in the client (SPEC T3), against the sandbox."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest
from celery.backends.base import Backend
from kombu.utils.json import dumps, loads
from telebot import TeleBot

from apps.bots.models import Bot
from apps.chats.models import Group, UnreachableChat
from apps.chats.services import is_unreachable, mark_reachable
from apps.telegram import client
from apps.telegram.errors import (
    BadRequest,
    ChatMigrated,
    OutcomeUnknown,
    RateLimited,
    RetryAfter,
    TelegramError,
    TransientError,
    Unreachable,
)
from gmbot.celery import app as celery_app
from tests.conftest import free_port, wait_until
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


def started_user(sandbox: Any, bot: Bot, name: str = "Ann") -> int:
    user_id = int(sandbox.create_user(name)["id"])
    sandbox.start(user_id, bot.username)
    return user_id


def group_with_bot(sandbox: Any, bot: Bot, type: str = "supergroup", **rights: Any) -> int:
    chat_id = int(sandbox.create_chat(type, title="Fans")["id"])
    sandbox.add_bot(bot.username, chat_id, **rights)
    return chat_id


def test_429_raises_retry_after_with_telegrams_retry_after_and_is_not_retried(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    user = started_user(sandbox, bot)
    sandbox.fault("sendMessage", 429, retry_after=2, times=1)

    with pytest.raises(RetryAfter) as raised:
        telebot.send_message(user, "hello")

    assert type(raised.value) is RetryAfter
    assert raised.value.retry_after == 2
    assert raised.value.description == "Too Many Requests: retry after 2"
    assert [call["status"] for call in sandbox.calls(method="sendMessage")] == [429]


def test_500_raises_transient_error_with_the_exact_description(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    user = started_user(sandbox, bot)
    sandbox.fault("sendMessage", 500, "Internal Server Error: try again", times=1)

    with pytest.raises(TransientError) as raised:
        telebot.send_message(user, "hello")

    assert raised.value.description == "Internal Server Error: try again"
    assert raised.value.error_code == 500
    assert raised.value.method == "sendMessage"
    assert raised.value.chat_id == user
    assert len(sandbox.calls(method="sendMessage")) == 1


@pytest.mark.parametrize(
    ("method", "expected", "call"),
    [
        # safe to repeat: the retry ends where the first call would have
        ("getChat", TransientError, lambda telebot, user: telebot.get_chat(user)),
        # the message may have gone out: not a TransientError, which would send it again
        ("sendMessage", OutcomeUnknown, lambda telebot, user: telebot.send_message(user, "hi")),
    ],
)
def test_a_read_timeout_raises_by_whether_the_call_is_safe_to_repeat(
    sandbox: Any, bot: Bot, telebot: TeleBot, reconfigure: Any, method: str, expected: Any,
    call: Any,
) -> None:  # fmt: skip
    user = started_user(sandbox, bot)
    reconfigure(TELEGRAM_READ_TIMEOUT=0.2)
    sandbox.fault(method, delay_ms=600, times=1)

    with pytest.raises(expected, match="Timeout"):
        call(telebot, user)

    # The sandbox logs the call once its delay is over; let it, before the next test resets it.
    wait_until(lambda: sandbox.calls(method=method), timeout=5)


def test_an_unreachable_api_raises_transient_error_without_the_token_in_it(
    sandbox: Any, bot: Bot, telebot: TeleBot, reconfigure: Any, caplog: Any
) -> None:
    reconfigure(TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(TransientError) as raised:
        telebot.send_message(42, "hello")

    secret = telebot.token.split(":", 1)[1]
    # The requests exception names the URL, so the token: it must not show in a traceback either.
    assert raised.value.__suppress_context__
    assert secret not in str(raised.value) and secret not in repr(raised.value.args)
    assert secret not in caplog.text


def test_tokens_never_reach_the_logs(sandbox: Any, bot: Bot, telebot: TeleBot, caplog: Any) -> None:
    user = started_user(sandbox, bot)
    sandbox.fault("sendMessage", 500, "Internal Server Error", times=1)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(TransientError):
        telebot.send_message(user, "one")
    telebot.send_message(user, "two")
    with pytest.raises(BadRequest):
        telebot.send_message(-1, "three")

    assert caplog.records
    assert telebot.token.split(":", 1)[1] not in caplog.text


def test_a_user_who_blocked_the_bot_raises_unreachable_and_is_marked(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    user = started_user(sandbox, bot)
    sandbox.block(user, bot.username)

    with pytest.raises(Unreachable) as raised:
        telebot.send_message(user, "hello")

    assert raised.value.reason == "blocked"
    assert raised.value.description == "Forbidden: bot was blocked by the user"
    row = UnreachableChat.objects.get(bot=bot, chat_id=user)
    assert (row.reason, row.description) == ("blocked", "Forbidden: bot was blocked by the user")
    assert is_unreachable(bot.pk, user)
    assert mark_reachable(bot.pk, user) is True
    assert not is_unreachable(bot.pk, user)


def test_a_group_that_kicked_the_bot_raises_unreachable_and_is_marked(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    group = group_with_bot(sandbox, bot)
    sandbox.set_member(group, bot.username, "kicked")

    with pytest.raises(Unreachable) as raised:
        telebot.send_message(group, "hello")

    assert raised.value.reason == "kicked"
    assert UnreachableChat.objects.get(bot=bot, chat_id=group).reason == "kicked"


@pytest.mark.parametrize(
    ("act", "reason"),
    [
        (lambda tb, group, user: tb.send_message(-4_000_000_001, "x"), "chat_not_found"),
        (lambda tb, group, user: tb.restrict_chat_member(group, user), "not_enough_rights"),
        (lambda tb, group, user: tb.get_chat_member(group, 4_000_000_001), "user_not_found"),
    ],
    ids=["chat_not_found", "not_enough_rights", "user_not_found"],
)
def test_known_bad_requests_carry_a_named_reason(
    sandbox: Any, bot: Bot, telebot: TeleBot, act: Any, reason: str
) -> None:
    group = group_with_bot(sandbox, bot)
    user = int(sandbox.create_user("Ben")["id"])
    sandbox.set_member(group, user, "member")

    with pytest.raises(BadRequest) as raised:
        act(telebot, group, user)

    assert raised.value.reason == reason
    assert raised.value.description.startswith("Bad Request: ")


def test_deleting_a_message_twice_succeeds_and_reports_already_deleted(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    user = started_user(sandbox, bot)
    message = telebot.send_message(user, "soon gone")

    assert telebot.delete_message(user, message.message_id) is True
    assert client.last_outcome() == client.Outcome("deleteMessage", user, "ok")
    assert telebot.delete_message(user, message.message_id) is True
    assert client.last_outcome() == client.Outcome(
        "deleteMessage", user, "already_done", "already_deleted"
    )

    answers = [call["status"] for call in sandbox.calls(method="deleteMessage")]
    assert answers == [200, 400]


def test_approving_a_user_already_in_the_group_counts_as_success(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    group = group_with_bot(sandbox, bot, status="administrator", can_invite_users=True)
    user = int(sandbox.create_user("Cy")["id"])
    sandbox.set_member(group, user, "member")

    assert telebot.approve_chat_join_request(group, user) is True

    assert client.last_outcome() == client.Outcome(
        "approveChatJoinRequest", group, "already_done", "already_participant"
    )
    [call] = sandbox.calls(method="approveChatJoinRequest")
    assert call["response"]["description"] == "Bad Request: USER_ALREADY_PARTICIPANT"


def test_a_migrated_group_gets_its_new_id_stored_and_the_call_repeated(
    sandbox: Any, bot: Bot, telebot: TeleBot
) -> None:
    old = group_with_bot(sandbox, bot, type="group")
    stored = GroupFactory(bot=bot, chat_id=old)
    new = int(sandbox.migrate(old)["chat_id"])

    message = telebot.send_message(old, "still here?")

    assert message.chat.id == new
    stored.refresh_from_db()
    assert stored.chat_id == new
    calls = sandbox.calls(method="sendMessage")
    assert [(int(c["params"]["chat_id"]), c["status"]) for c in calls] == [(old, 400), (new, 200)]
    assert calls[0]["response"]["parameters"]["migrate_to_chat_id"] == new
    assert "still here?" in [m.get("text") for m in sandbox.messages(new)]


def test_a_migrated_group_is_repeated_only_once(sandbox: Any, bot: Bot, telebot: TeleBot) -> None:
    old = group_with_bot(sandbox, bot, type="group")
    new = int(sandbox.migrate(old)["chat_id"])
    sandbox.set_member(new, bot.username, "kicked")

    with pytest.raises(Unreachable) as raised:
        telebot.send_message(old, "anyone?")

    assert raised.value.chat_id == new
    assert len(sandbox.calls(method="sendMessage")) == 2


def test_migrating_a_chat_touches_only_that_bots_rows(make_bot: Any) -> None:
    from apps.chats.services import migrate_chat

    mine, other = make_bot(), make_bot()
    group = GroupFactory(bot=mine, chat_id=-555)
    elsewhere = GroupFactory(bot=other, chat_id=-555)

    assert migrate_chat(mine.telegram_id, -555, -1_009_000_000_555) == 1
    assert migrate_chat(mine.telegram_id, -555, -1_009_000_000_555) == 0

    group.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (group.chat_id, elsewhere.chat_id) == (-1_009_000_000_555, -555)
    assert Group.objects.filter(chat_id=-555).count() == 1


ERRORS = [
    RetryAfter("Too Many Requests: retry after 2", "sendMessage", 429, -100123, retry_after=2),
    RateLimited("Budget full (group): retry after 41.5s", "sendMessage", 429, -5, retry_after=41.5),
    TransientError("Internal Server Error", "sendMessage", 500, 42),
    Unreachable("Forbidden: bot was blocked by the user", "sendMessage", 403, 42, reason="blocked"),
    BadRequest("Bad Request: chat not found", "getChat", 400, "@gone", reason="chat_not_found"),
    ChatMigrated("Bad Request: group chat was upgraded", "sendMessage", 400, -7, new_chat_id=-1007),
]


def same(a: TelegramError, b: BaseException) -> bool:
    return type(a) is type(b) and a.args == b.args and vars(a) == vars(b) and str(a) == str(b)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_pickle(error: TelegramError) -> None:
    assert same(error, pickle.loads(pickle.dumps(error)))  # noqa: S301 - our own bytes


# What the result backend does with a stored exception: encode it and decode it again.
WIRE = {
    "json": lambda value: loads(dumps(value)),
    "pickle": lambda value: pickle.loads(pickle.dumps(value)),  # noqa: S301 - our own bytes
}


@pytest.mark.parametrize("serializer", sorted(WIRE))
@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_celerys_result_serialization(error: TelegramError, serializer: str) -> None:
    backend = Backend(app=celery_app, serializer=serializer)
    stored = backend.prepare_exception(error)
    wire = WIRE[serializer](stored)

    assert same(error, backend.exception_to_python(wire))
