"""The per-message path stays lean: one bot context per bot per process, no database query for a
subscriber's message once the caches are warm."""

from __future__ import annotations

import pytest

from apps.bots import context
from apps.bots.context import context_for
from apps.bots.models import Bot

pytestmark = pytest.mark.django_db


def test_a_subscribers_message_on_warm_caches_costs_no_query(protected, django_assert_num_queries):
    # given a subscriber who wrote once (the bot's context, the protection and the row are fresh)
    sam = protected.user("Sam", subscribed=True)
    protected.say(sam, "hi")

    # when they write again, the whole update costs no query
    with django_assert_num_queries(0):
        message_id = protected.say(sam, "hi again")
    assert protected.present(message_id)


def test_the_bot_context_is_rebuilt_only_when_what_it_runs_changes(
    make_bot, monkeypatch, test_features
):
    # given a bot whose row is read again at every update (not once a minute)
    monkeypatch.setattr(context, "ROW_TTL", 0.0)
    bot = make_bot()
    first = context_for(bot.pk)
    assert first is not None and first.features == ("guard",)

    # while nothing changed, the same context and TeleBot serve
    assert context_for(bot.pk) is first

    # new features: a new TeleBot with their handlers
    Bot.objects.filter(pk=bot.pk).update(features=["guard", "audit"])
    second = context_for(bot.pk)
    assert second is not None and second.features == ("guard", "audit")
    assert second.telebot is not first.telebot

    # deactivated: no context, so nothing is served
    Bot.objects.filter(pk=bot.pk).update(is_active=False)
    assert context_for(bot.pk) is None
