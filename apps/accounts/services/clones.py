"""Cloning the bot (SPEC D7): a user brings a token of their own and gets a bot run by GMBot.

The conversation (apps/accounts/handlers.py, state in conversations.py) asks which features the
clone runs first and for the token last, so the token never has to wait anywhere between two
steps: the job that received it deletes the message that held it, checks it with Telegram
(getMe, apps/bots' check_bot_token) and stores it encrypted (apps/bots' do_add_bot), in that one
job. The update that carried it travelled encrypted too (apps/ingress/sealing.py). Then
`tasks.high.register_clone` points Telegram at the clone (ingress's webhook registration: a
webhook of its own with its own secret at WEBHOOK_BASE_URL, or none, for `runbot`) and tells the
owner. Owners list and remove their clones from "My account".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from telebot.types import User as TgUser

from apps.accounts import keyboards, texts
from apps.accounts.models import Clone
from apps.bots import features
from apps.bots.context import BotContext, context_for
from apps.bots.features import FeatureError
from apps.bots.models import Bot, Owner
from apps.bots.services import TOKEN_IN_TEXT, BotTokenError, check_bot_token, do_add_bot
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import TelegramError

logger = logging.getLogger(__name__)

FLOW = "clone"
STEP_FEATURES = "features"
STEP_TOKEN = "token"  # noqa: S105 - the name of a step, not a token


class CloneRefused(Exception):
    """The clone cannot be made; the message says why, for the user."""


def feature_choices() -> list[tuple[str, str]]:
    """What a clone may run: every feature a bot can be configured with, as (name, short label)
    — the label without the SPEC reference the admin shows."""
    return [(name, re.sub(r"\s*\(SPEC [^)]*\)$", "", label)) for name, label in features.choices()]


def short_label(label: str) -> str:
    """A feature's name as a button shows it: its label up to the colon ("Guard")."""
    return label.split(":")[0]


def check_clone_features(names: list[str]) -> list[str]:
    """The chosen features, in order, or CloneRefused saying what is wrong with them."""
    if not names:
        raise CloneRefused(texts.CLONE_NO_FEATURES)
    try:
        return features.check_features(names)
    except FeatureError as exc:
        raise CloneRefused(texts.CLONE_BAD_FEATURES.format(reason=exc)) from None


def find_token(text: str) -> str | None:
    """The bot token in a message's text, if it holds one."""
    found = TOKEN_IN_TEXT.search(text)
    return found.group(0) if found else None


def do_clone(bot: BotContext, user: TgUser, token: str, names: list[str]) -> Clone:
    """Check the token with Telegram, store the bot it belongs to (token encrypted, the user as
    its owner, the chosen features) and record it as a clone of `bot`. A bot GMBot already runs
    may be cloned again only by the owner of that clone (a token rotated with @BotFather).
    Raises CloneRefused. do_add_bot locks the bot's row while it writes."""
    names = check_clone_features(names)
    try:
        identity = check_bot_token(token)
    except BotTokenError as exc:
        raise CloneRefused(texts.CLONE_BAD_TOKEN.format(reason=exc)) from None
    if identity.telegram_id == bot.telegram_id:
        raise CloneRefused(texts.CLONE_OWN_TOKEN)
    existing = Bot.objects.filter(telegram_id=identity.telegram_id).first()
    if (
        existing is not None
        and not Clone.objects.filter(bot=existing, bot__owner__telegram_id=user.id).exists()
    ):
        raise CloneRefused(texts.CLONE_ALREADY_SERVED.format(bot=identity.username))
    with transaction.atomic():
        try:
            added = do_add_bot(token, owner_telegram_id=user.id, features=names)
        except BotTokenError as exc:
            raise CloneRefused(texts.CLONE_BAD_TOKEN.format(reason=exc)) from None
        Owner.objects.filter(telegram_id=user.id).update(
            username=user.username or "", first_name=(user.first_name or "")[:128]
        )
        clone, _ = Clone.objects.update_or_create(bot=added.bot, defaults={"parent_id": bot.id})
    logger.info("accounts: bot %s cloned as %s by user %s", bot.id, added.bot.pk, user.id)
    return clone


# Registers a bot for its updates (apps/ingress's register_for_updates, handed in by the task:
# features do not import ingress): None when done, else Telegram's reason for refusing.
Registrar = Callable[[Bot], str | None]


def do_register_clone(clone_id: int, chat_id: int, message_id: int, register: Registrar) -> None:
    """Point Telegram at the clone and tell its owner, by editing the message that said it was
    being set up. Locks nothing; a second run registers again and edits to the same words."""
    clone = Clone.objects.select_related("bot").filter(pk=clone_id).first()
    parent = context_for(clone.parent_id) if clone is not None and clone.parent_id else None
    if clone is None or parent is None:
        return  # removed meanwhile, or the bot it was cloned from is gone: nobody to tell
    row = clone.bot
    problem = register(row)
    labels = dict(feature_choices())
    names = ", ".join(short_label(labels.get(name, name)) for name in row.features or [])
    if problem is not None:
        text = texts.CLONE_WEBHOOK_FAILED.format(bot=row.username, reason=problem)
    elif settings.WEBHOOK_BASE_URL:
        text = texts.CLONE_READY.format(bot=row.username, features=names)
    else:
        text = texts.CLONE_READY_POLLING.format(bot=row.username, features=names)
    parent.telebot.edit_message_text(
        text, chat_id, message_id, reply_markup=keyboards.account_menu()
    )


@dataclass(frozen=True)
class OwnedBot:
    id: int
    username: str
    removable: bool  # a clone made with /clone; other bots are the operators' to remove


def owned_bots(telegram_id: int) -> list[OwnedBot]:
    rows = Bot.objects.filter(owner__telegram_id=telegram_id, is_active=True).order_by("username")
    clones = set(Clone.objects.filter(bot__in=rows).values_list("bot_id", flat=True))
    return [OwnedBot(row.pk, row.username, row.pk in clones) for row in rows]


def do_remove_clone(telegram_id: int, bot_id: int) -> str | None:
    """Remove the user's clone: its webhook at Telegram, then its row here (and with it its
    token and everything stored for it). Returns its username, or None when it is not one of
    the user's clones. Locks the rows it deletes."""
    row = Bot.objects.filter(pk=bot_id, clone__isnull=False, owner__telegram_id=telegram_id).first()
    if row is None:
        return None
    try:
        telebot_for_token(row.token).delete_webhook()
    except TelegramError as exc:
        # Telegram keeps posting to a webhook left behind; the webhook refuses its secret (401).
        logger.warning("accounts: could not delete the webhook of clone %s: %s", row.pk, exc)
    username = row.username
    row.delete()
    logger.info("accounts: clone %s removed by user %s", bot_id, telegram_id)
    return username
