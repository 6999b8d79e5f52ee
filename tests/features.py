"""Three small features of the tests' own, to show how features share a bot and a deployment
(apps/bots/features.py): `audit` observes every update and owns a button, `flaky` has an
observer that always fails, `points` answers a private /start as the points bot (SPEC D1) will.
Declared for one test at a time by the `test_features` fixture (tests/conftest.py)."""

from __future__ import annotations

from telebot.types import CallbackQuery, Message, Update

from apps.bots.context import BotContext
from apps.bots.features import Feature, Handlers

AUDITED = "audited"
AUDIT_BUTTON = "au:ok"
# (bot pk, update_id) of every update the audit observer saw.
SEEN: list[tuple[int, int]] = []


def audit_observer(update: Update, bot: BotContext) -> None:
    SEEN.append((bot.id, update.update_id))


def audit_pressed(query: CallbackQuery, bot: BotContext) -> None:
    bot.telebot.answer_callback_query(query.id, AUDITED)


def register_audit(handlers: Handlers) -> None:
    handlers.callback_query(audit_pressed)


def flaky_observer(update: Update, bot: BotContext) -> None:
    raise RuntimeError("the flaky observer fails on every update")


def points_start(message: Message, bot: BotContext) -> None:
    bot.telebot.send_message(message.chat.id, f"points: {message.text}")


def register_points(handlers: Handlers) -> None:
    handlers.command(points_start, ["start"], chat_types=["private"])


FLAKY = Feature(name="flaky", label="Flaky (tests)", observers=(flaky_observer,))
AUDIT = Feature(
    name="audit",
    label="Audit (tests)",
    handlers=register_audit,
    observers=(audit_observer,),
    callback_prefix="au:",
    update_kinds=frozenset({"callback_query"}),
)
POINTS = Feature(
    name="points",
    label="Points (tests)",
    handlers=register_points,
    commands=frozenset({"start"}),
    update_kinds=frozenset({"message"}),
)
