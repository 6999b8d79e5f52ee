"""What a bot runs is configured per bot and checked when it is configured, not when an update
arrives (apps/bots/features.py)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command

from apps.bots import features
from apps.bots.admin import BotForm
from apps.bots.features import Feature
from apps.bots.models import Bot
from apps.guard import keyboards
from apps.guard.features import GUARD
from apps.ingress import routing
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

TOKEN = "7200000002:AAH-features-test-token"


def test_callback_prefixes_are_unique_and_every_guard_button_routes_to_guard_alone(
    test_features,
):
    # the declared features' prefixes: none starts another's
    prefixes = [f.callback_prefix for f in features.declared() if f.callback_prefix]
    assert GUARD.callback_prefix in prefixes
    for a in prefixes:
        assert [b for b in prefixes if a.startswith(b)] == [a]
    # a feature whose prefix would catch another's buttons is refused when it is declared
    with pytest.raises(ImproperlyConfigured, match="share callback prefix"):
        features.declare(Feature(name="greedy", label="greedy", callback_prefix="g"))

    # every button the guard sends with callback data is the guard's, and no other feature's
    keyboard = keyboards.warning_keyboard([], 42, "Join {channel}", "I've joined")
    data = [b.callback_data for row in keyboard.keyboard for b in row if b.callback_data]
    assert data and all(
        [f.name for f in features.declared() if f.owns_callback(d)] == ["guard"] for d in data
    )


def test_every_update_kind_a_feature_needs_is_routed():
    for feature in features.declared():
        assert feature.update_kinds <= set(routing.ROUTES), feature.name


def test_a_new_bot_runs_the_guard_and_an_unknown_or_clashing_set_is_refused(test_features):
    assert BotFactory().features == ["guard"]

    with pytest.raises(ValidationError, match="unknown feature nosuch"):
        BotFactory.build(features=["guard", "nosuch"]).clean()
    with pytest.raises(ValidationError, match="guard and points both answer /start"):
        BotFactory.build(features=["points", "guard"]).clean()
    # the admin's form refuses the same
    bot = BotFactory()
    form = BotForm(data={"features": ["guard", "points"]}, instance=bot)
    assert not form.is_valid()
    assert "both answer /start" in str(form.errors["features"])
    form = BotForm(data={"features": ["points", "audit"]}, instance=bot)
    assert form.is_valid()
    form.save()
    assert Bot.objects.get(pk=bot.pk).features == ["audit", "points"]


def test_addbot_sets_the_features_and_refuses_a_clash_before_calling_telegram(
    sandbox, test_features
):
    sandbox.create_bot(token=TOKEN, username="points_one_bot")

    with pytest.raises(CommandError, match="both answer /start"):
        call_command("addbot", "--token", TOKEN, "--features", "guard,points")
    assert sandbox.calls() == [] and not Bot.objects.exists()

    call_command("addbot", "--token", TOKEN, "--features", "points, audit", stdout=io.StringIO())
    assert Bot.objects.get().features == ["audit", "points"]
    # adding it again without --features keeps what it runs
    call_command("addbot", "--token", TOKEN, stdout=io.StringIO())
    assert Bot.objects.get().features == ["audit", "points"]


def test_setwebhook_asks_for_the_update_kinds_of_the_bots_features(
    sandbox, make_bot, test_features
):
    bot = make_bot(features=["points"])

    call_command("setwebhook", "--bot", bot.username, "--url", "https://gm.example.com",
                 stdout=io.StringIO())  # fmt: skip

    (call,) = sandbox.calls(method="setWebhook")
    # the points feature's messages, and the core's kinds
    assert call["params"]["allowed_updates"] == ["message", "chat_join_request"]
