"""Bot health (SPEC M7): every active bot's getMe on a schedule; a revoked token deactivates the
bot and tells the operators, once; Bot API calls are counted per bot, method and hour."""

from __future__ import annotations

import contextlib

import pytest

from apps.bots.context import context_for
from apps.bots.models import Bot
from apps.ops import services
from apps.telegram import usage
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import BadRequest
from celeryconfig import beat_schedule

pytestmark = pytest.mark.django_db


def test_a_revoked_token_deactivates_its_bot_once_and_the_operators_hear_of_it(
    make_bot, sandbox, monkeypatch
):
    # given the operators' chat, a healthy bot, and a bot whose token was revoked in @BotFather
    ops_chat = sandbox.create_user("Olga the operator")["id"]
    monkeypatch.setenv("OPS_CHAT_ID", str(ops_chat))
    healthy = make_bot("gm_healthy_bot")
    sandbox.start(ops_chat, healthy.username)
    revoked = make_bot("gm_revoked_bot")
    revoked.set_token(f"{revoked.telegram_id}:AAHrevokedRevokedREVOKED0123456789xyz")
    revoked.save()

    # when the health check runs, twice (a second beat, a retry)
    first = services.do_check_bots()
    second = services.do_check_bots()

    # then the revoked bot is inactive, with why, and no longer served; the healthy one answered
    assert first.deactivated == [revoked.pk] and second.deactivated == []
    assert first.answered == [healthy.pk] and second.answered == [healthy.pk]
    revoked.refresh_from_db()
    assert not revoked.is_active
    assert revoked.check_error.startswith("token refused: Unauthorized")
    assert context_for(revoked.pk) is None
    assert Bot.objects.get(pk=healthy.pk).checked_at is not None
    # and the operators were told once, by the healthy bot
    told = sandbox.calls(bot=healthy.username, method="sendMessage", chat_id=ops_chat)
    assert len(told) == 1
    assert "@gm_revoked_bot was deactivated" in told[0]["params"]["text"]


def test_a_bot_telegram_cannot_answer_now_stays_active_with_the_error_noted(make_bot, sandbox):
    bot = make_bot()
    sandbox.fault("getMe", error_code=400, description="Bad Request: something odd", times=1)

    report = services.do_check_bots()

    assert report.failed == [bot.pk] and report.deactivated == []
    bot.refresh_from_db()
    assert bot.is_active and bot.check_error == "Bad Request: something odd"


def test_the_health_check_is_scheduled_on_normal_every_five_minutes():
    entry = beat_schedule["check-bots"]
    assert entry["task"] == "tasks.normal.check_bots"
    assert str(entry["schedule"]._orig_minute) == "*/5"


def test_calls_and_errors_are_counted_per_bot_method_and_hour(make_bot, sandbox, redis_client):
    # given two bots' calls, one refused (and nothing counted before)
    usage.flush()
    redis_client.flushdb()
    ann, bob = make_bot(), make_bot()
    sandbox.fault("getMe", error_code=400, description="Bad Request: no", times=1, bot=bob.username)
    for bot in (ann, ann, bob):
        with contextlib.suppress(BadRequest):
            telebot_for_token(bot.token).get_me()

    # when the process writes what it counted
    usage.flush()

    # then the current hour holds each bot's getMe calls and errors
    counted = {(c.bot_telegram_id, c.method): (c.calls, c.errors) for c in usage.last_hours(24)}
    assert counted == {(ann.telegram_id, "getMe"): (2, 0), (bob.telegram_id, "getMe"): (1, 1)}
