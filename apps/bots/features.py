"""The feature registry: what a bot can run, declared once by the app that implements it.

A feature (guard, and next growth, broadcasts, accounts, …) is a `Feature`: its handlers, its
observers, the commands it answers, the prefix of its buttons' callback data and the update kinds
it needs from Telegram. Its app declares it in `AppConfig.ready()`. A `Bot` row names the features
it runs (`Bot.features`); the core feature (`always_on`, declared by apps/chats) runs on every bot.

For each bot, apps/bots/context.py builds a TeleBot with exactly its features' handlers (core
first, then in declaration order) and dispatch runs the features' observers before them:
pyTelegramBotAPI stops at the first handler that matches, an observer sees every update.

What two features of one bot must not share is refused when the bot is configured (the admin
form, `addbot --features`), not when an update arrives: a command, or a callback prefix (that
one for any two features at all, since prefixes are checked when a feature is declared).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from telebot.types import Message, Update

if TYPE_CHECKING:
    from apps.bots.context import BotContext

# handler(update part, bot): a Message, CallbackQuery or ChatMemberUpdated, and the bot's context.
Handler = Callable[[Any, "BotContext"], None]
# observer(update, bot): sees every update of a bot that runs the feature. It must be cheap (it
# runs before every handler, on the hot path) and safe to run again (a failed update is retried).
Observer = Callable[[Update, "BotContext"], None]


class FeatureError(ValueError):
    """A set of features a bot cannot run: an unknown name, or two features claiming one command."""


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    # Registers the feature's handlers through a `Handlers`, for one bot.
    handlers: Callable[[Handlers], None] | None = None
    observers: tuple[Observer, ...] = ()
    # Every command a handler of the feature answers (without the slash).
    commands: frozenset[str] = frozenset()
    # The start of every callback_data the feature's buttons carry; its callback handlers see
    # only those. Unique: no feature's prefix starts another's.
    callback_prefix: str = ""
    # The kinds of update (Update's field names) the feature needs; setwebhook asks for the union.
    update_kinds: frozenset[str] = frozenset()
    # The core: runs on every bot and is not a choice.
    always_on: bool = False

    def owns_callback(self, data: str | None) -> bool:
        return bool(self.callback_prefix and data and data.startswith(self.callback_prefix))


@dataclass
class Handlers:
    """Registers one feature's handlers on one bot's TeleBot. Every handler is called as
    `handler(update part, bot)` with that bot's context; a command only when it is addressed
    to this bot (`/status` or `/status@ThisBot`, never `/status@OtherBot`); a callback query only
    when its data carries the feature's prefix."""

    bot: BotContext
    feature: Feature

    def command(self, handler: Handler, commands: list[str], *, chat_types: list[str]) -> None:
        undeclared = set(commands) - self.feature.commands
        if undeclared:
            raise ImproperlyConfigured(
                f"feature {self.feature.name} answers /{', /'.join(sorted(undeclared))} "
                "without declaring it in Feature.commands"
            )
        self.bot.telebot.register_message_handler(
            self._bind(handler), commands=commands, chat_types=chat_types, func=self._for_me
        )

    def message(self, handler: Handler, *, content_types: list[str], **filters: Any) -> None:
        self.bot.telebot.register_message_handler(
            self._bind(handler), content_types=content_types, **filters
        )

    def edited_message(self, handler: Handler, *, content_types: list[str], **filters: Any) -> None:
        self.bot.telebot.register_edited_message_handler(
            self._bind(handler), content_types=content_types, **filters
        )

    def callback_query(self, handler: Handler) -> None:
        if not self.feature.callback_prefix:
            raise ImproperlyConfigured(f"feature {self.feature.name} has no callback prefix")
        self.bot.telebot.register_callback_query_handler(
            self._bind(handler), func=lambda query: self.feature.owns_callback(query.data)
        )

    def chat_member(self, handler: Handler) -> None:
        self.bot.telebot.register_chat_member_handler(self._bind(handler))

    def my_chat_member(self, handler: Handler) -> None:
        self.bot.telebot.register_my_chat_member_handler(self._bind(handler))

    def chat_join_request(self, handler: Handler) -> None:
        self.bot.telebot.register_chat_join_request_handler(self._bind(handler))

    def _bind(self, handler: Handler) -> Callable[[Any], None]:
        bot = self.bot

        def handle(update: Any) -> None:
            handler(update, bot)

        handle.__qualname__ = f"{self.feature.name}:{handler.__qualname__}"
        return handle

    def _for_me(self, message: Message) -> bool:
        first = (message.text or "").split(maxsplit=1)[0]
        _, at, username = first.partition("@")
        return not at or username.lower() == self.bot.username.lower()


_declared: dict[str, Feature] = {}


def declare(feature: Feature) -> None:
    """Add a feature to the registry (from its app's AppConfig.ready())."""
    if _declared.get(feature.name, feature) is not feature:
        raise ImproperlyConfigured(f"feature {feature.name} is declared twice")
    for other in _declared.values():
        a, b = feature.callback_prefix, other.callback_prefix
        if other is not feature and a and b and (a.startswith(b) or b.startswith(a)):
            raise ImproperlyConfigured(
                f"features {other.name} and {feature.name} share callback prefix {a!r}/{b!r}"
            )
    _declared[feature.name] = feature


def declared() -> list[Feature]:
    """Every declared feature, core first, then in declaration order."""
    features = list(_declared.values())
    return [f for f in features if f.always_on] + [f for f in features if not f.always_on]


def choices() -> list[tuple[str, str]]:
    """The features a bot may be configured with (the core is not a choice)."""
    return [(f.name, f.label) for f in declared() if not f.always_on]


def check_features(names: Iterable[str]) -> list[str]:
    """Validate a bot's features: every name declared and no command claimed twice. Returns
    them deduplicated, in declaration order. Raises FeatureError saying what is wrong."""
    wanted = set(names)
    known = {name for name, _ in choices()}
    unknown = wanted - known
    if unknown:
        raise FeatureError(
            f"unknown feature {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known)) or 'none'})"
        )
    claimed: dict[str, str] = {}
    for feature in enabled(wanted):
        for command in sorted(feature.commands):
            if command in claimed:
                raise FeatureError(
                    f"features {claimed[command]} and {feature.name} both answer /{command}; "
                    "one bot can run only one of them"
                )
            claimed[command] = feature.name
    return [f.name for f in declared() if f.name in wanted]


def enabled(names: Iterable[str]) -> list[Feature]:
    """The features a bot with these names runs: the core and the named ones, in order. A name
    no app declares (a feature removed from the code) is skipped."""
    wanted = set(names)
    return [f for f in declared() if f.always_on or f.name in wanted]


def update_kinds(names: Iterable[str]) -> list[str]:
    """What to ask Telegram for (`allowed_updates`): the union of the features' update kinds."""
    return sorted({kind for feature in enabled(names) for kind in feature.update_kinds})


def install(bot: BotContext) -> None:
    """Register the handlers of the bot's features on its (fresh) TeleBot."""
    for feature in enabled(bot.features):
        if feature.handlers is not None:
            feature.handlers(Handlers(bot, feature))


def observers(names: Iterable[str]) -> tuple[Observer, ...]:
    return tuple(observer for feature in enabled(names) for observer in feature.observers)
