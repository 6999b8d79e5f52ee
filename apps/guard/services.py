"""Channel-subscription enforcement (SPEC G3-G11): who may speak, and what the bot does about it.

`check_*` functions ask and decide without changing anything; `do_*` functions act (Telegram calls,
rows) and say in their docstring what they lock. Handlers (apps.guard.handlers) and tasks call
these; every one is safe to run twice for the same update, because a failed update is retried.

Rights errors never loop: a refusal for lack of rights pauses the group (`do_pause`) and is
swallowed, and a paused group gets no enforcement call until an admin runs /reactivate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from telebot.types import CallbackQuery, ChatMember, ChatMemberUpdated, ChatPermissions, Message
from telebot.types import User as TgUser

from apps.bots.context import BotContext, context_for
from apps.bots.models import Owner
from apps.chats.models import Channel, Group, GroupChannelLink, GroupMember
from apps.guard import cache, keyboards, texts
from apps.telegram.errors import BadRequest, TelegramError, Unreachable

logger = logging.getLogger(__name__)

SERVICE_ACCOUNT_ID = 777000  # Telegram's own notices and channel forwards in old clients
ADMIN_STATUSES = frozenset({"creator", "administrator"})
# Refusals that mean the bot lacks a right it needs: pause instead of failing again and again.
LOST_RIGHTS_REASONS = frozenset(
    {"not_enough_rights", "cant_delete", "member_list_inaccessible", "chat_not_found"}
)
MUTED = ChatPermissions(
    can_send_messages=False, can_send_audios=False, can_send_documents=False,
    can_send_photos=False, can_send_videos=False, can_send_video_notes=False,
    can_send_voice_notes=False, can_send_polls=False, can_send_other_messages=False,
    can_add_web_page_previews=False, can_change_info=False, can_invite_users=False,
    can_pin_messages=False, can_manage_topics=False, can_react_to_messages=False,
)  # fmt: skip

DEFAULT_PARAMS: dict[str, str] = {
    "warning": texts.DEFAULT_WARNING,
    "join_button": texts.DEFAULT_JOIN_BUTTON,
    "verify_button": texts.DEFAULT_VERIFY_BUTTON,
    "mode": "delete",
}
MODES = ("delete", "mute")


# ---- what a group requires ---------------------------------------------------------------------


@dataclass(frozen=True)
class Protection:
    group: Group
    channels: list[Channel]

    @property
    def active(self) -> bool:
        return self.group.paused_at is None

    def param(self, name: str) -> str:
        value = self.group.params.get(name)
        return value if isinstance(value, str) and value else DEFAULT_PARAMS[name]


def protection_for(bot: BotContext, chat_id: int) -> Protection | None:
    """The group's protection if it is enabled and requires at least one channel.

    Every message in a group asks, so the answer is cached (cache.protection: dropped whenever
    a group, link or channel changes); a miss is one query for the links with their group and
    channel."""
    cached = cache.protection(bot.id, chat_id)
    if cached is not cache.UNKNOWN:
        return cast(Protection | None, cached)
    links = list(
        GroupChannelLink.objects.filter(
            group__bot_id=bot.id, group__chat_id=chat_id, group__enabled=True
        )
        .select_related("group", "channel")
        .order_by("channel_id")
    )
    protection = Protection(links[0].group, [link.channel for link in links]) if links else None
    cache.remember_protection(bot.id, chat_id, protection)
    return protection


def is_subscribed(member: ChatMember) -> bool:
    if member.status in ("creator", "administrator", "member"):
        return True
    return member.status == "restricted" and bool(getattr(member, "is_member", False))


def is_exempt_sender(message: Message, bot: BotContext) -> bool:
    """Senders never touched, decided from the message alone (no call): automatic forwards from
    the linked channel, anonymous admins and anyone posting as a chat (restrictChatMember cannot
    reach a chat), the bot itself, Telegram's service account and other bots."""
    if message.is_automatic_forward or message.sender_chat is not None:
        return True
    user = message.from_user
    return user is None or user.is_bot or user.id in (SERVICE_ACCOUNT_ID, bot.telegram_id)


def check_is_admin(bot: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether the user is the group's creator or an admin (admin list cached briefly)."""
    admins = cache.admin_ids(bot.telegram_id, chat_id)
    if admins is None:
        admins = {member.user.id for member in bot.telebot.get_chat_administrators(chat_id)}
        cache.remember_admins(bot.telegram_id, chat_id, admins)
    return user_id in admins


def check_caller_is_admin(bot: BotContext, message: Message) -> bool:
    """A command's sender is an admin; an anonymous admin (posting as the group) counts."""
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        return True
    user = message.from_user
    return user is not None and check_is_admin(bot, message.chat.id, user.id)


def check_missing_channels(
    bot: BotContext,
    channels: list[Channel],
    user_id: int,
    *,
    trust_negative: bool = True,
    use_cache: bool = True,
) -> list[Channel]:
    """The channels the user has not joined. Cached answers are used (a negative one only when
    `trust_negative`); the others are asked with getChatMember and cached."""
    known = (
        cache.memberships(bot.telegram_id, [c.chat_id for c in channels], user_id)
        if use_cache
        else {}
    )
    missing: list[Channel] = []
    hits = misses = 0
    for channel in channels:
        subscribed = known.get(channel.chat_id)
        if subscribed is None or (not subscribed and not trust_negative):
            misses += 1
            subscribed = is_subscribed(bot.telebot.get_chat_member(channel.chat_id, user_id))
            cache.remember(bot.telegram_id, channel.chat_id, user_id, subscribed)
        else:
            hits += 1
        if not subscribed:
            missing.append(channel)
    cache.count(hits, misses)
    return missing


# ---- acting -----------------------------------------------------------------------------------


def record_member(group_id: int, user_id: int, status: str, *, active: bool = False) -> None:
    """Upsert what the guard decided about a member (one statement, no lock held).

    `active`: the member just wrote. Such a refresh of an unchanged status is written at most
    once per cache.SEEN_SECONDS: a busy group's chatter is not a stream of database writes."""
    if active and cache.recently_recorded(group_id, user_id, status):
        return
    now = timezone.now()
    GroupMember.objects.bulk_create(
        [GroupMember(group_id=group_id, user_id=user_id, status=status, last_seen_at=now,
                     checked_at=now)],
        update_conflicts=True,
        unique_fields=["group", "user_id"],
        update_fields=["status", "last_seen_at", "checked_at"],
    )  # fmt: skip
    cache.recorded(group_id, user_id, status)


def display_name(user: TgUser) -> str:
    return user.first_name or (f"@{user.username}" if user.username else str(user.id))


def channel_names(channels: list[Channel]) -> str:
    return ", ".join(str(channel) for channel in channels)


def mute(bot: BotContext, chat_id: int, user_id: int) -> None:
    bot.telebot.restrict_chat_member(
        chat_id, user_id, permissions=MUTED, use_independent_chat_permissions=True
    )


def unmute(bot: BotContext, chat_id: int, user_id: int) -> None:
    """Give the member the group's default permissions back (no until_date: for good)."""
    defaults = bot.telebot.get_chat(chat_id).permissions or ChatPermissions(can_send_messages=True)
    bot.telebot.restrict_chat_member(
        chat_id, user_id, permissions=defaults, use_independent_chat_permissions=True
    )


def warn(
    bot: BotContext,
    protection: Protection,
    user: TgUser,
    missing: list[Channel],
    template: str | None = None,
) -> bool:
    """Post the warning with its buttons, at most once per user per group per
    cache.WARN_SECONDS. Returns whether a warning was sent."""
    chat_id = protection.group.chat_id
    if not cache.claim_warning(bot.telegram_id, chat_id, user.id):
        return False
    text = (template or protection.param("warning")).replace("{name}", display_name(user))
    text = text.replace("{channels}", channel_names(missing))
    markup = keyboards.warning_keyboard(
        missing, user.id, protection.param("join_button"), protection.param("verify_button")
    )
    try:
        sent = bot.telebot.send_message(chat_id, text, reply_markup=markup)
    except BaseException:
        cache.release_warning(bot.telegram_id, chat_id, user.id)  # a retry may warn again
        raise
    cache.add_warning_message(bot.telegram_id, chat_id, user.id, sent.message_id)
    return True


@contextmanager
def enforcing(bot: BotContext, protection: Protection) -> Iterator[None]:
    """Run enforcement calls for one group; a lost right pauses the group instead of failing
    (so nothing retries in a loop), a target who became an admin meanwhile is left alone."""
    group = protection.group
    try:
        yield
    except BadRequest as exc:
        if exc.reason in LOST_RIGHTS_REASONS:
            do_pause(bot, group, "not_enough_rights")
        elif exc.reason == "user_is_admin":
            cache.forget_admins(bot.telegram_id, group.chat_id)
        else:
            raise
    except Unreachable as exc:
        if exc.chat_id == group.chat_id:
            do_pause(bot, group, "removed")
        elif any(exc.chat_id == channel.chat_id for channel in protection.channels):
            do_pause(bot, group, "channel_demoted", channel=str(exc.chat_id))
        else:
            raise


def do_enforce_message(bot: BotContext, message: Message) -> bool:
    """A message in a group: a non-subscriber's is deleted (unless the group chose mute only),
    the sender muted and warned. Returns whether it acted on the sender. Locks nothing; the
    member row is upserted."""
    if is_exempt_sender(message, bot):
        return False
    protection = protection_for(bot, message.chat.id)
    if protection is None or not protection.active:
        return False
    user = message.from_user
    assert user is not None  # is_exempt_sender returned True otherwise
    group = protection.group
    with enforcing(bot, protection):
        if check_is_admin(bot, group.chat_id, user.id):
            return False
        missing = check_missing_channels(bot, protection.channels, user.id)
        if not missing:
            record_member(group.pk, user.id, GroupMember.Status.VERIFIED, active=True)
            return False
        if protection.param("mode") == "delete":
            bot.telebot.delete_message(group.chat_id, message.message_id)
        mute(bot, group.chat_id, user.id)
        record_member(group.pk, user.id, GroupMember.Status.RESTRICTED)
        warn(bot, protection, user, missing)
        logger.info(
            "guard: muted user=%s group=%s bot=%s missing=%s",
            user.id, group.chat_id, bot.id, [c.chat_id for c in missing],
        )  # fmt: skip
        return True
    return True  # a lost right paused the group instead: the sender is not answered either


def do_enforce_join(bot: BotContext, chat_id: int, user: TgUser) -> None:
    """A member joined: if any linked channel is missing, mute at once and warn. Acts once per
    (group, user) within cache.JOIN_WINDOW, since Telegram reports a join twice. Locks nothing."""
    if user.is_bot or user.id == SERVICE_ACCOUNT_ID:
        return
    protection = protection_for(bot, chat_id)
    if protection is None or not protection.active:
        return
    if not cache.claim_join(bot.telegram_id, chat_id, user.id):
        return
    group = protection.group
    try:
        with enforcing(bot, protection):
            missing = check_missing_channels(bot, protection.channels, user.id)
            if not missing:
                record_member(group.pk, user.id, GroupMember.Status.VERIFIED)
                return
            mute(bot, chat_id, user.id)
            record_member(group.pk, user.id, GroupMember.Status.RESTRICTED)
            warn(bot, protection, user, missing)
    except BaseException:
        cache.release_join(bot.telegram_id, chat_id, user.id)  # the retry must act
        raise


def do_verify(bot: BotContext, query: CallbackQuery) -> None:
    """The "I've joined" button: only the warned user may press it; a fresh check (no negative
    cache); subscribed → unmuted and the warnings deleted, otherwise an alert naming what is
    missing. Locks nothing."""
    target = keyboards.verify_target(query.data)
    presser = query.from_user.id
    message = query.message
    if target is None or message is None:
        return
    if presser != target:
        _answer(bot, query, texts.VERIFY_NOT_YOURS)
        return
    chat_id = message.chat.id
    protection = protection_for(bot, chat_id)
    if protection is None:
        # Protection was switched off after the warning: nothing to check, lift our mute.
        unmute(bot, chat_id, presser)
        _delete_warnings(bot, chat_id, presser, message.message_id)
        _answer(bot, query, texts.VERIFY_NOT_PROTECTED)
        return
    if not protection.active:
        _answer(bot, query, texts.VERIFY_PAUSED)
        return
    with enforcing(bot, protection):
        missing = check_missing_channels(bot, protection.channels, presser, trust_negative=False)
        if missing:
            _answer(bot, query, texts.VERIFY_MISSING.format(channels=channel_names(missing)))
            return
        unmute(bot, chat_id, presser)
        record_member(protection.group.pk, presser, GroupMember.Status.VERIFIED)
        cache.release_warning(bot.telegram_id, chat_id, presser)
        _delete_warnings(bot, chat_id, presser, message.message_id)
        _answer(bot, query, texts.VERIFY_DONE)


def _answer(bot: BotContext, query: CallbackQuery, text: str) -> None:
    try:
        bot.telebot.answer_callback_query(query.id, text, show_alert=True)
    except BadRequest as exc:
        if exc.reason != "query_too_old":
            raise
        # A retried update comes after the 15 s Telegram allows; the effect is what matters.
        logger.info("guard: callback %s answered too late", query.id)


def _delete_warnings(bot: BotContext, chat_id: int, user_id: int, pressed: int) -> None:
    for message_id in {pressed} | cache.pop_warning_messages(bot.telegram_id, chat_id, user_id):
        bot.telebot.delete_message(chat_id, message_id)  # already deleted counts as done


def do_member_changed(bot: BotContext, update: ChatMemberUpdated) -> None:
    """A `chat_member` update: in a channel it refreshes the cache and enforces a leave; in a
    group it drops a stale admin list and treats an arrival as a join. Our own restrictions
    come back as chat_member updates too; they change nothing."""
    if update.from_user is not None and update.from_user.id == bot.telegram_id:
        return
    old, new = update.old_chat_member, update.new_chat_member
    user = new.user
    chat = update.chat
    if chat.type == "channel":
        was, now = is_subscribed(old), is_subscribed(new)
        cache.remember(bot.telegram_id, chat.id, user.id, now)
        if was and not now:
            do_enforce_channel_leave(bot, chat.id, user)
        return
    if old.status in ADMIN_STATUSES or new.status in ADMIN_STATUSES:
        cache.forget_admins(bot.telegram_id, chat.id)
        return
    if not _in_chat(old) and _in_chat(new):
        do_enforce_join(bot, chat.id, user)


def _in_chat(member: ChatMember) -> bool:
    return member.status == "member" or (
        member.status == "restricted" and bool(getattr(member, "is_member", False))
    )


def do_enforce_channel_leave(bot: BotContext, channel_id: int, user: TgUser) -> None:
    """The user left an enforced channel: mute and warn them in every protected group linked to
    it where they are a member who can still write. Groups where we have seen them come first
    (each group costs a getChatMember, and a mute should not wait behind the others); the rest
    are asked too, since a member who never wrote has no row. Locks nothing."""
    groups = (
        Group.objects.filter(
            bot_id=bot.id,
            enabled=True,
            paused_at__isnull=True,
            channel_links__channel__chat_id=channel_id,
            channel_links__channel__bot_id=bot.id,
        )
        .annotate(seen=Exists(GroupMember.objects.filter(group=OuterRef("pk"), user_id=user.id)))
        .order_by("-seen", "pk")
        .distinct()
    )
    for group in groups:
        protection = protection_for(bot, group.chat_id)
        if protection is None:
            continue
        with enforcing(bot, protection):
            member = bot.telebot.get_chat_member(group.chat_id, user.id)
            if not _in_chat(member) or not getattr(member, "can_send_messages", True):
                continue  # not in the group, an admin, or muted already
            missing = check_missing_channels(bot, protection.channels, user.id)
            if not missing:
                continue
            mute(bot, group.chat_id, user.id)
            record_member(group.pk, user.id, GroupMember.Status.RESTRICTED)
            warn(bot, protection, user, missing, texts.LEFT_CHANNEL_WARNING)
            logger.info(
                "guard: user=%s left channel=%s, muted in group=%s",
                user.id, channel_id, group.chat_id,
            )  # fmt: skip


# ---- lost rights (G10) ------------------------------------------------------------------------


def do_bot_status_changed(bot: BotContext, update: ChatMemberUpdated) -> None:
    """`my_chat_member`: the bot was demoted or removed in a group or a channel; every affected
    protected group is paused and its owner told. A promotion changes nothing by itself: the
    owner runs /reactivate, which checks everything again."""
    new = update.new_chat_member
    chat = update.chat
    if chat.type == "channel":
        if new.status == "administrator":
            return
        groups = Group.objects.filter(
            bot_id=bot.id,
            enabled=True,
            channel_links__channel__chat_id=chat.id,
            channel_links__channel__bot_id=bot.id,
        ).distinct()
        name = f"@{chat.username}" if chat.username else (chat.title or str(chat.id))
        for linked in groups:
            do_pause(bot, linked, "channel_demoted", channel=name)
        return
    reason = _lost_right(new)
    if reason is None:
        return
    group = Group.objects.filter(bot_id=bot.id, chat_id=chat.id, enabled=True).first()
    if group is not None:
        do_pause(bot, group, reason)


def _lost_right(member: ChatMember) -> str | None:
    if member.status in ("left", "kicked"):
        return "removed"
    if member.status != "administrator":
        return "demoted"
    if not (getattr(member, "can_delete_messages", False)
            and getattr(member, "can_restrict_members", False)):  # fmt: skip
        return "missing_rights"
    return None


def do_pause(bot: BotContext, group: Group, reason: str, **details: str) -> bool:
    """Pause protection and tell the owner in a private chat, once: the pause is claimed with a
    conditional update of the group's row, so only the first of concurrent reports writes to
    the owner. Returns whether this call paused the group."""
    text = texts.PAUSE_REASONS[reason].format(**details)
    claimed = Group.objects.filter(pk=group.pk, paused_at__isnull=True).update(
        paused_at=timezone.now(), pause_reason=text[:255], updated_at=timezone.now()
    )
    cache.forget_protection(group.bot_id, group.chat_id)
    group.refresh_from_db()
    if not claimed:
        return False
    logger.warning(
        "guard: protection paused group=%s bot=%s: %s", group.chat_id, group.bot_id, text
    )
    if group.owner is None:
        return True
    channels = channel_names(list(Channel.objects.filter(group_links__group=group)))
    message = texts.OWNER_PAUSED.format(
        group=group.title or group.chat_id, reason=text, channels=channels
    )
    try:
        bot.telebot.send_message(group.owner.telegram_id, message)
    except (Unreachable, BadRequest) as exc:
        # The owner never started the bot (or blocked it): /status in the group still shows why.
        logger.info("guard: could not tell owner=%s of the pause: %s", group.owner.telegram_id, exc)
    return True


# ---- commands (G3, G4) ------------------------------------------------------------------------


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
        bot_id=bot.id,
        chat_id=chat_id,
        defaults={"title": title, "enabled": True, "paused_at": None, "pause_reason": ""},
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
    return Protection(group, linked)


def check_owner(bot: BotContext, message: Message) -> TgUser | None:
    """Who owns the protection: the caller, or for an anonymous admin the group's creator."""
    if message.sender_chat is None:
        return message.from_user
    for admin in bot.telebot.get_chat_administrators(message.chat.id):
        if admin.status == "creator":
            return admin.user
    return None


def do_unprotect(bot: BotContext, chat_id: int, refs: list[str | int]) -> tuple[str, bool]:
    """Unlink the named channels, or switch protection off without any. Returns the reply and
    whether it changed anything. Locks nothing beyond the rows deleted or updated."""
    group = Group.objects.filter(bot_id=bot.id, chat_id=chat_id, enabled=True).first()
    if group is None:
        return texts.NOT_PROTECTED, False
    if not refs:
        Group.objects.filter(pk=group.pk).update(enabled=False, updated_at=timezone.now())
        cache.forget_protection(bot.id, chat_id)
        return texts.UNPROTECT_ALL, True
    replies = []
    for ref in refs:
        match = (
            Q(channel__chat_id=ref)
            if isinstance(ref, int)
            else Q(channel__username__iexact=str(ref).lstrip("@"))
        )
        deleted, _ = GroupChannelLink.objects.filter(match, group=group).delete()
        template = texts.UNPROTECT_CHANNEL if deleted else texts.UNPROTECT_UNKNOWN
        replies.append(template.format(channel=ref))
    if not GroupChannelLink.objects.filter(group=group).exists():
        Group.objects.filter(pk=group.pk).update(enabled=False, updated_at=timezone.now())
        replies.append(texts.UNPROTECT_ALL)
    cache.forget_protection(bot.id, chat_id)
    return "\n".join(replies), True


def status_text(bot: BotContext, chat_id: int) -> str:
    group = Group.objects.filter(bot_id=bot.id, chat_id=chat_id).first()
    if group is None:
        return texts.NOT_PROTECTED
    channels = list(Channel.objects.filter(group_links__group=group).order_by("pk"))
    counts = GroupMember.objects.filter(group=group).aggregate(
        verified=Count("pk", filter=Q(status=GroupMember.Status.VERIFIED)),
        restricted=Count("pk", filter=Q(status=GroupMember.Status.RESTRICTED)),
    )
    if not group.enabled or not channels:
        state = texts.STATE_OFF
    elif group.paused_at is not None:
        state = texts.STATE_PAUSED.format(reason=group.pause_reason)
    else:
        state = texts.STATE_ACTIVE
    return texts.STATUS.format(
        state=state,
        channels=channel_names(channels) or texts.NO_CHANNELS,
        verified=counts["verified"],
        restricted=counts["restricted"],
    )


def settings_text(group: Group) -> str:
    protection = Protection(group, [])
    mode = protection.param("mode")
    return texts.SETTINGS.format(
        warning=protection.param("warning"),
        join_button=protection.param("join_button"),
        verify_button=protection.param("verify_button"),
        mode=mode,
        mode_meaning=texts.MODE_MEANINGS.get(mode, ""),
    )


def do_settings(bot: BotContext, chat_id: int, args: str) -> str:
    """/settings [name value]: show or change the group's texts and mode. Locks the group's row
    while it rewrites `params`."""
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(bot_id=bot.id, chat_id=chat_id).first()
        if group is None:
            return texts.NOT_PROTECTED
        name, _, value = args.strip().partition(" ")
        value = value.strip()
        if not name:
            return settings_text(group)
        if name == "reset":
            group.params = {}
            group.save(update_fields=["params", "updated_at"])
            return texts.SETTINGS_RESET
        if name not in DEFAULT_PARAMS:
            return texts.SETTINGS_UNKNOWN
        if not value:
            return texts.SETTINGS_EMPTY
        if name == "mode" and value not in MODES:
            return texts.SETTINGS_BAD_MODE
        group.params = {**group.params, name: value[:1000]}
        group.save(update_fields=["params", "updated_at"])
    return texts.SETTINGS_SAVED


def do_reactivate(bot: BotContext, chat_id: int) -> None:
    """Lift the pause once /reactivate's checks passed. Locks nothing: one conditional update."""
    Group.objects.filter(bot_id=bot.id, chat_id=chat_id).update(
        paused_at=None, pause_reason="", updated_at=timezone.now()
    )
    cache.forget_protection(bot.id, chat_id)


# ---- batch verification (G11) -----------------------------------------------------------------

BATCH_ACTIVE_WITHIN = timedelta(days=1)
BATCH_RECHECK_AFTER = timedelta(hours=1)
BATCH_LIMIT = 200
# Stay well inside the task's soft time limit; the next run continues where this one stopped.
BATCH_SECONDS = 30.0


def do_verify_recent_members() -> dict[str, int]:
    """Re-check recently active verified members of active protected groups, oldest check
    first, straight from Telegram (not the cache), within the bulk budget; mute and warn those
    who left a channel without us hearing of it. Each member's `checked_at` is written as it
    goes, so a run cut short by the budget (RateLimited → a retry) does not redo work.
    Locks nothing."""
    now = timezone.now()
    rows = (
        GroupMember.objects.filter(
            status=GroupMember.Status.VERIFIED,
            last_seen_at__gte=now - BATCH_ACTIVE_WITHIN,
            checked_at__lt=now - BATCH_RECHECK_AFTER,
            group__enabled=True,
            group__paused_at__isnull=True,
        )
        .select_related("group")
        .order_by("checked_at")[:BATCH_LIMIT]
    )
    deadline = time.monotonic() + BATCH_SECONDS
    result = {"checked": 0, "muted": 0}
    protections: dict[int, Protection | None] = {}
    for row in rows:
        if time.monotonic() > deadline:
            break
        group: Group = row.group
        bot = context_for(group.bot_id)
        if bot is None:
            continue  # an inactive bot acts nowhere
        if group.pk not in protections:
            protections[group.pk] = protection_for(bot, group.chat_id)
        protection = protections[group.pk]
        if protection is None or not protection.active:
            continue
        with enforcing(bot, protection):
            missing = check_missing_channels(bot, protection.channels, row.user_id, use_cache=False)
            status = GroupMember.Status.VERIFIED
            if missing:
                member = bot.telebot.get_chat_member(group.chat_id, row.user_id)
                if _in_chat(member) and getattr(member, "can_send_messages", True):
                    mute(bot, group.chat_id, row.user_id)
                    warn(bot, protection, member.user, missing,
                         texts.LEFT_CHANNEL_WARNING)  # fmt: skip
                    result["muted"] += 1
                status = GroupMember.Status.RESTRICTED
            GroupMember.objects.filter(pk=row.pk).update(status=status, checked_at=timezone.now())
            if status != row.status:
                cache.forget_recorded(group.pk, row.user_id)
            result["checked"] += 1
        if protection.group.paused_at is not None:
            protections[group.pk] = None  # paused mid-run (do_pause refreshed it): no more calls
    return result
