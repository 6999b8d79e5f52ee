"""Setting protection up and looking after it (SPEC G3, G4, G10): /protect, /unprotect,
/status, /settings, /reactivate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from telebot.types import Message
from telebot.types import User as TgUser

from apps.bots.context import BotContext
from apps.bots.models import Owner
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.guard import cache, texts
from apps.guard.models import GroupProtection, MemberState
from apps.guard.services.protection import (
    DEFAULT_SETTINGS,
    MODES,
    Protection,
    channel_names,
    setting,
)
from apps.telegram.errors import BadRequest, TelegramError, Unreachable


@dataclass
class SetupReport:
    """The checks of /protect and /reactivate, in the order they ran, and what they found."""

    lines: list[str] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True

    def passed(self, what: str) -> None:
        self.lines.append(texts.STEP_OK.format(what=what))

    def failed(self, what: str) -> None:
        self.lines.append(texts.STEP_FAILED.format(what=what))
        self.ok = False

    def text(self, conclusion: str) -> str:
        return "\n".join([texts.CHECKS_HEADER, *self.lines, "", conclusion])


def parse_channel_refs(args: list[str]) -> list[str | int]:
    refs: list[str | int] = []
    for arg in args:
        arg = arg.strip().rstrip(",")
        if arg.lstrip("-").isdigit():
            refs.append(int(arg))
        elif arg:
            refs.append(arg if arg.startswith("@") else f"@{arg}")
    return refs


def check_setup(bot: BotContext, chat_id: int, refs: list[str | int]) -> SetupReport:
    """Everything protection needs, checked in order: the caller is an admin (the handler
    checked), the bot is an admin of the group with the rights to delete and restrict, and an
    admin of every channel. Makes only read calls."""
    report = SetupReport()
    report.passed(texts.CHECK_CALLER_ADMIN)
    me = bot.telebot.get_chat_member(chat_id, bot.telegram_id)
    if me.status != "administrator":
        report.failed(texts.CHECK_BOT_ADMIN)
    else:
        report.passed(texts.CHECK_BOT_ADMIN)
        lacking = [
            label
            for right, label in (
                ("can_delete_messages", "delete messages"),
                ("can_restrict_members", "ban users"),
            )
            if not getattr(me, right, False)
        ]
        if lacking:
            report.failed(texts.CHECK_BOT_RIGHTS_MISSING.format(rights=", ".join(lacking)))
        else:
            report.passed(texts.CHECK_BOT_RIGHTS)
    for ref in refs:
        shown = str(ref)
        try:
            chat = bot.telebot.get_chat(ref)
        except (BadRequest, Unreachable):
            report.failed(texts.CHECK_CHANNEL_NOT_FOUND.format(channel=shown))
            continue
        if chat.username:
            shown = f"@{chat.username}"
        if chat.type != "channel":
            report.failed(texts.CHECK_NOT_A_CHANNEL.format(channel=shown))
            continue
        try:
            mine = bot.telebot.get_chat_member(chat.id, bot.telegram_id)
            is_admin = mine.status == "administrator"
        except (BadRequest, Unreachable):
            is_admin = False
        if not is_admin:
            report.failed(texts.CHECK_CHANNEL_NOT_ADMIN.format(channel=shown))
            continue
        report.passed(texts.CHECK_CHANNEL_ADMIN.format(channel=shown))
        report.channels.append(
            {
                "chat_id": chat.id,
                "title": chat.title or "",
                "username": chat.username or "",
                "invite_link": _invite_link(bot, chat.id, chat.username, chat.invite_link),
            }
        )
    return report


def _invite_link(bot: BotContext, chat_id: int, username: str | None, link: str | None) -> str:
    """A link for the Join button of a private channel (public ones use t.me/<username>)."""
    if username or link:
        return link or ""
    try:
        return str(bot.telebot.export_chat_invite_link(chat_id))
    except TelegramError:
        return ""  # the warning still carries the verify button


@transaction.atomic
def do_protect(
    bot: BotContext, chat_id: int, title: str, owner: TgUser | None, channels: list[dict[str, Any]]
) -> Protection:
    """Record owner, group, channels and links, and (re)start protection. Locks the group's row
    (select_for_update) so two concurrent /protect leave one consistent set."""
    owner_row = None
    if owner is not None:
        owner_row, _ = Owner.objects.update_or_create(
            telegram_id=owner.id,
            defaults={"username": owner.username or "", "first_name": owner.first_name or ""},
        )
    group, _ = Group.objects.select_for_update().update_or_create(
        bot_id=bot.id, chat_id=chat_id, defaults={"title": title, "enabled": True}
    )
    state, _ = GroupProtection.objects.update_or_create(
        group=group, defaults={"enabled": True, "paused_at": None, "pause_reason": ""}
    )
    if owner_row is not None:
        group.owner = owner_row
        group.save(update_fields=["owner", "updated_at"])
    for data in channels:
        channel, _ = Channel.objects.update_or_create(
            bot_id=bot.id, chat_id=data["chat_id"], defaults=data
        )
        GroupChannelLink.objects.get_or_create(group=group, channel=channel)
    linked = list(Channel.objects.filter(group_links__group=group).order_by("pk"))
    return Protection(group, state, linked)


def check_owner(bot: BotContext, message: Message) -> TgUser | None:
    """Who owns the protection: the caller, or for an anonymous admin the group's creator."""
    if message.sender_chat is None:
        return message.from_user
    for admin in bot.telebot.get_chat_administrators(message.chat.id):
        if admin.status == "creator":
            return admin.user
    return None


def _protection_of(bot: BotContext, chat_id: int) -> QuerySet[GroupProtection]:
    return GroupProtection.objects.filter(group__bot_id=bot.id, group__chat_id=chat_id)


def do_unprotect(bot: BotContext, chat_id: int, refs: list[str | int]) -> tuple[str, bool]:
    """Unlink the named channels, or switch protection off without any. Returns the reply and
    whether it changed anything. Locks nothing beyond the rows deleted or updated."""
    state = _protection_of(bot, chat_id).filter(enabled=True).first()
    if state is None:
        return texts.NOT_PROTECTED, False
    switched_off = GroupProtection.objects.filter(pk=state.pk)
    if not refs:
        switched_off.update(enabled=False, updated_at=timezone.now())
        cache.forget_protection(bot.id, chat_id)
        return texts.UNPROTECT_ALL, True
    replies = []
    for ref in refs:
        match = (
            Q(channel__chat_id=ref)
            if isinstance(ref, int)
            else Q(channel__username__iexact=str(ref).lstrip("@"))
        )
        deleted, _ = GroupChannelLink.objects.filter(match, group_id=state.pk).delete()
        template = texts.UNPROTECT_CHANNEL if deleted else texts.UNPROTECT_UNKNOWN
        replies.append(template.format(channel=ref))
    if not GroupChannelLink.objects.filter(group_id=state.pk).exists():
        switched_off.update(enabled=False, updated_at=timezone.now())
        replies.append(texts.UNPROTECT_ALL)
    cache.forget_protection(bot.id, chat_id)
    return "\n".join(replies), True


def status_text(bot: BotContext, chat_id: int) -> str:
    state = _protection_of(bot, chat_id).select_related("group").first()
    if state is None:
        return texts.NOT_PROTECTED
    channels = list(Channel.objects.filter(group_links__group_id=state.pk).order_by("pk"))
    counts = MemberState.objects.filter(group_id=state.pk).aggregate(
        verified=Count("pk", filter=Q(status=MemberState.Status.VERIFIED)),
        restricted=Count("pk", filter=Q(status=MemberState.Status.RESTRICTED)),
    )
    if not (state.enabled and state.group.enabled) or not channels:
        status = texts.STATE_OFF
    elif state.paused_at is not None:
        status = texts.STATE_PAUSED.format(reason=state.pause_reason)
    else:
        status = texts.STATE_ACTIVE
    return texts.STATUS.format(
        state=status,
        channels=channel_names(channels) or texts.NO_CHANNELS,
        verified=counts["verified"],
        restricted=counts["restricted"],
    )


def settings_text(state: GroupProtection) -> str:
    mode = setting(state, "mode")
    return texts.SETTINGS.format(
        warning=setting(state, "warning"),
        join_button=setting(state, "join_button"),
        verify_button=setting(state, "verify_button"),
        mode=mode,
        mode_meaning=texts.MODE_MEANINGS.get(mode, ""),
    )


def do_settings(bot: BotContext, chat_id: int, args: str) -> str:
    """/settings [name value]: show or change the group's texts and mode. Locks the group's
    protection row while it rewrites `settings`."""
    with transaction.atomic():
        state = _protection_of(bot, chat_id).select_for_update().first()
        if state is None:
            return texts.NOT_PROTECTED
        name, _, value = args.strip().partition(" ")
        value = value.strip()
        if not name:
            return settings_text(state)
        if name == "reset":
            state.settings = {}
            state.save(update_fields=["settings", "updated_at"])
            return texts.SETTINGS_RESET
        if name not in DEFAULT_SETTINGS:
            return texts.SETTINGS_UNKNOWN
        if not value:
            return texts.SETTINGS_EMPTY
        if name == "mode" and value not in MODES:
            return texts.SETTINGS_BAD_MODE
        state.settings = {**state.settings, name: value[:1000]}
        state.save(update_fields=["settings", "updated_at"])
    return texts.SETTINGS_SAVED


def do_reactivate(bot: BotContext, chat_id: int) -> None:
    """Lift the pause once /reactivate's checks passed. Locks nothing: one conditional update."""
    _protection_of(bot, chat_id).update(paused_at=None, pause_reason="", updated_at=timezone.now())
    cache.forget_protection(bot.id, chat_id)
