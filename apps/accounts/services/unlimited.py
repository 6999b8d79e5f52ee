"""Unlimited points for group admins (SPEC D4): `/init` registers a group the caller admins, with
the bot an admin there too; `/activate` in that group checks the caller is still an admin and
makes their checks free for ACCOUNTS_UNLIMITED_DAYS. Admin status comes from Telegram each time
(getChatMember), never from a cache: it is what the grant rests on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account, GroupRegistration
from apps.bots.context import BotContext
from apps.chats.models import Group
from apps.telegram.errors import BadRequest

ADMIN_STATUSES = frozenset({"creator", "administrator"})


@dataclass(frozen=True)
class GroupCheck:
    caller_is_admin: bool
    bot_is_admin: bool


def _status(bot: BotContext, chat_id: int, user_id: int) -> str:
    try:
        return str(bot.telebot.get_chat_member(chat_id, user_id).status)
    except BadRequest:
        return "left"  # not a member Telegram knows of there


def check_group(bot: BotContext, chat_id: int, user_id: int) -> GroupCheck:
    """Whether the caller and the bot are admins of the group, from Telegram. Read calls only."""
    return GroupCheck(
        caller_is_admin=_status(bot, chat_id, user_id) in ADMIN_STATUSES,
        bot_is_admin=_status(bot, chat_id, bot.telegram_id) == "administrator",
    )


@transaction.atomic
def do_register_group(
    bot: BotContext, account: Account, chat_id: int, title: str
) -> tuple[GroupRegistration, bool]:
    """Record the group (the shared chats.Group row) and that this account registered it.
    Returns the registration and whether it is new. Locks the group's row."""
    group, _ = Group.objects.select_for_update().update_or_create(
        bot_id=bot.id, chat_id=chat_id, defaults={"title": title[:255]}
    )
    return GroupRegistration.objects.get_or_create(account=account, group=group)


def registration_of(bot: BotContext, account: Account, chat_id: int) -> GroupRegistration | None:
    return GroupRegistration.objects.filter(
        account=account, group__bot_id=bot.id, group__chat_id=chat_id
    ).first()


@transaction.atomic
def do_activate(registration: GroupRegistration) -> datetime:
    """Make the registering account's checks free until the returned time (the caller has just
    been confirmed an admin). Locks the account's and the registration's rows."""
    now = timezone.now()
    until = now + timedelta(days=settings.ACCOUNTS_UNLIMITED_DAYS)
    Account.objects.filter(pk=registration.account_id).update(unlimited_until=until, updated_at=now)
    GroupRegistration.objects.filter(pk=registration.pk).update(activated_at=now)
    return until
