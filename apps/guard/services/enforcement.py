"""Enforcement (SPEC G5, G6, G8): a non-subscriber who writes, joins, or leaves an enforced
channel is muted, recorded and warned — `do_restrict`, the one way all of them act."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone
from telebot.types import ChatMember, ChatMemberUpdated, ChatPermissions, Message
from telebot.types import User as TgUser

from apps.bots.context import BotContext
from apps.bots.models import TelegramUser
from apps.chats.models import Channel, Group
from apps.chats.services import note_member_seen
from apps.guard import cache, keyboards, texts
from apps.guard.models import MemberState
from apps.guard.services.protection import (
    SERVICE_ACCOUNT_ID,
    Protection,
    channel_groups,
    channel_names,
    check_is_admin,
    check_missing_channels,
    display_name,
    in_chat,
    is_exempt_sender,
    is_subscribed,
    protection_for,
)
from apps.guard.services.rights import LOST_RIGHTS_REASONS, do_pause
from apps.telegram.errors import BadRequest, RetryAfter, Unreachable
from gmbot import fanout
from gmbot.celery import app
from gmbot.upsert import upsert

logger = logging.getLogger(__name__)

SEND_WARNING = "tasks.high.send_warning"  # apps do not import tasks/
ADMIN_STATUSES = frozenset({"creator", "administrator"})
UNREAD = object()  # record_member(recorded=...): the caller did not read the cache
MUTED = ChatPermissions(
    can_send_messages=False, can_send_audios=False, can_send_documents=False,
    can_send_photos=False, can_send_videos=False, can_send_video_notes=False,
    can_send_voice_notes=False, can_send_polls=False, can_send_other_messages=False,
    can_add_web_page_previews=False, can_change_info=False, can_invite_users=False,
    can_pin_messages=False, can_manage_topics=False, can_react_to_messages=False,
)  # fmt: skip


def record_member(
    group: Group,
    user_id: int,
    status: str,
    *,
    active: bool = False,
    seen: bool = True,
    recorded: object = UNREAD,
) -> None:
    """Upsert what the guard decided about a member, and (when `seen`: a message, a join, a
    press) that the member was seen now. One statement each, no lock held.

    `active`: the member just wrote. Such a refresh of an unchanged status is written at most
    once per cache.SEEN_SECONDS: a busy group's chatter is not a stream of database writes.
    `recorded`: the status cache.sender_state found for the member, None for none (so it is not
    read again)."""
    if active:
        if recorded is UNREAD:
            recorded = cache.recorded_status(group.bot_id, group.chat_id, user_id)
        if recorded == status:
            return
    now = timezone.now()
    if seen:
        note_member_seen(group.pk, user_id, now)
    upsert(
        MemberState,
        [(group.pk, user_id, status, now)],
        fields=("group", "user_id", "status", "checked_at"),
        unique=("group", "user_id"),
        update=("status", "checked_at"),
    )
    cache.recorded(group.bot_id, group.chat_id, user_id, status)


def mute(bot: BotContext, chat_id: int, user_id: int) -> None:
    bot.telebot.restrict_chat_member(
        chat_id, user_id, permissions=MUTED, use_independent_chat_permissions=True
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
    return _post_warning(bot, protection, user, missing, template)


def _post_warning(
    bot: BotContext,
    protection: Protection,
    user: TgUser,
    missing: list[Channel],
    template: str | None,
) -> bool:
    """Send the warning whose claim the caller holds. When the group's message budget (20 a
    minute on Telegram) is spent, the warning alone waits for it — a job on `high` after
    `retry_after`, the claim still held so nothing else warns meanwhile — rather than failing
    the update: its retry would delete and mute again and spend more of the bot's calls."""
    chat_id = protection.group.chat_id
    text = (template or protection.param("warning")).replace("{name}", display_name(user))
    text = text.replace("{channels}", channel_names(missing))
    markup = keyboards.warning_keyboard(
        missing, user.id, protection.param("join_button"), protection.param("verify_button")
    )
    try:
        sent = bot.telebot.send_message(chat_id, text, reply_markup=markup)
    except RetryAfter as exc:
        cache.defer_warning(bot.telegram_id, chat_id, user.id)
        app.send_task(
            SEND_WARNING,
            args=[bot.id, chat_id, user.id, template == texts.LEFT_CHANNEL_WARNING],
            countdown=exc.retry_after,
        )
        logger.info("guard: warning deferred %.1fs user=%s group=%s bot=%s (%s)",
                    exc.retry_after, user.id, chat_id, bot.id, exc.description)  # fmt: skip
        return False
    except BaseException:
        cache.release_warning(bot.telegram_id, chat_id, user.id)  # a retry may warn again
        raise
    cache.add_warning_message(bot.telegram_id, chat_id, user.id, sent.message_id)
    return True


def do_send_deferred_warning(bot: BotContext, chat_id: int, user_id: int, left: bool) -> bool:
    """The warning `_post_warning` deferred, sent now if the member still needs it: still
    restricted in a group still protected, still missing a channel. Returns whether it was
    sent. Otherwise the claim is released, so a later event may warn at once. A second run of
    the same deferral sends nothing (cache.take_deferred_warning)."""
    if not cache.take_deferred_warning(bot.telegram_id, chat_id, user_id):
        return False
    protection = protection_for(bot, chat_id)
    restricted = (
        protection is not None
        and MemberState.objects.filter(
            group=protection.group, user_id=user_id, status=MemberState.Status.RESTRICTED
        ).exists()
    )
    missing = (
        check_missing_channels(bot, protection.channels, user_id, trust_negative=False)
        if protection is not None and protection.active and restricted
        else []
    )
    if protection is None or not missing:
        cache.release_warning(bot.telegram_id, chat_id, user_id)
        return False
    known = TelegramUser.objects.filter(telegram_id=user_id).first()
    user = TgUser(
        id=user_id,
        is_bot=False,
        first_name=known.first_name if known else "",
        username=known.username if known else None,
    )
    with enforcing(bot, protection):
        template = texts.LEFT_CHANNEL_WARNING if left else None
        return _post_warning(bot, protection, user, missing, template)
    return False  # a lost right paused the group instead


def do_restrict(
    bot: BotContext,
    protection: Protection,
    user: TgUser,
    missing: list[Channel],
    *,
    template: str | None = None,
    seen: bool = True,
    muted: bool = False,
) -> None:
    """Mute a member who lacks `missing`, record it, and warn them (with `template`, or the
    group's warning). `seen`: the member was just seen (a batch check saw no one). `muted`: the
    caller muted them already. Locks nothing; the member's rows are upserted."""
    if not muted:
        mute(bot, protection.group.chat_id, user.id)
    record_member(protection.group, user.id, MemberState.Status.RESTRICTED, seen=seen)
    warn(bot, protection, user, missing, template)


@contextmanager
def enforcing(bot: BotContext, protection: Protection) -> Iterator[None]:
    """Run enforcement calls for one group; a lost right pauses the group instead of failing
    (so nothing retries in a loop), a target who became an admin meanwhile is left alone."""
    group, state = protection.group, protection.state
    try:
        yield
    except BadRequest as exc:
        if exc.reason in LOST_RIGHTS_REASONS:
            do_pause(bot, state, "not_enough_rights")
        elif exc.reason == "user_is_admin":
            cache.forget_admins(bot.telegram_id, group.chat_id)
        else:
            raise
    except Unreachable as exc:
        if exc.chat_id == group.chat_id:
            do_pause(bot, state, "removed")
        elif any(exc.chat_id == channel.chat_id for channel in protection.channels):
            do_pause(bot, state, "channel_demoted", channel=str(exc.chat_id))
        else:
            raise


def do_enforce_message(bot: BotContext, message: Message) -> bool:
    """A message in a group: a non-subscriber's is deleted (unless the group chose mute only),
    the sender muted and warned. Returns whether it acted on the sender. Locks nothing; the
    member's rows are upserted."""
    if is_exempt_sender(message, bot):
        return False
    user = message.from_user
    assert user is not None  # is_exempt_sender returned True otherwise
    known = cache.sender_state(bot.id, bot.telegram_id, message.chat.id, user.id)
    protection = protection_for(bot, message.chat.id, cached=known.protection)
    if protection is None or not protection.active:
        return False
    group = protection.group
    with enforcing(bot, protection):
        if check_is_admin(bot, group.chat_id, user.id, cached=known.admins):
            return False
        missing = check_missing_channels(bot, protection.channels, user.id)
        if not missing:
            record_member(group, user.id, MemberState.Status.VERIFIED, active=True,
                          recorded=known.recorded)  # fmt: skip
            return False
        if protection.param("mode") == "delete":
            bot.telebot.delete_message(group.chat_id, message.message_id)
        do_restrict(bot, protection, user, missing)
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
    try:
        with enforcing(bot, protection):
            missing = check_missing_channels(bot, protection.channels, user.id)
            if not missing:
                record_member(protection.group, user.id, MemberState.Status.VERIFIED)
                return
            do_restrict(bot, protection, user, missing)
    except BaseException:
        cache.release_join(bot.telegram_id, chat_id, user.id)  # the retry must act
        raise


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
    if not in_chat(old) and in_chat(new):
        do_enforce_join(bot, chat.id, user)


def do_enforce_channel_leave(bot: BotContext, channel_id: int, user: TgUser) -> None:
    """The user left an enforced channel: mute and warn them in every protected group linked to
    it where they are a member who can still write. Every linked group is asked (a getChatMember
    each, since a member who never wrote has no row), all at once, and each answer is acted on
    as it comes: where they can still write, they are enforced. Locks nothing."""
    groups = channel_groups(bot, channel_id)
    # The questions are Bot API calls only, asked at once (gmbot/fanout.py): a group's mute
    # waits for its own answer, not for another group's. What an answer leads to (a pause for a
    # lost right, the mute and its records) is done here, in the job's own thread.
    answers = fanout.as_done(
        lambda chat_id: fanout.outcome(lambda: bot.telebot.get_chat_member(chat_id, user.id)),
        groups,
    )
    error: Exception | None = None
    for chat_id, member in answers:
        try:
            _enforce_leave_in(bot, channel_id, user, chat_id, member)
        except Exception as exc:  # every group gets its turn; then the job fails (and retries)
            if error is not None:
                logger.warning("guard: another group failed too: %s", chat_id, exc_info=exc)
            error = error or exc
    if error is not None:
        raise error


def _enforce_leave_in(
    bot: BotContext, channel_id: int, user: TgUser, chat_id: int, member: ChatMember | Exception
) -> None:
    """A channel leave in one linked group: mute and warn the user if they can still write.
    `member`: getChatMember's answer about them in the group, or what asking raised."""
    if not isinstance(member, Exception) and (
        not in_chat(member) or not getattr(member, "can_send_messages", True)
    ):
        return  # not in the group, an admin, or muted already
    protection = protection_for(bot, chat_id)
    if protection is None:
        return
    with enforcing(bot, protection):
        if isinstance(member, Exception):
            raise member
        left = [channel for channel in protection.channels if channel.chat_id == channel_id]
        if left:
            # The group requires the channel they left: the mute waits for no other answer.
            # What else they lack (the warning lists it) is asked meanwhile.
            missing, _ = fanout.both(
                lambda: check_missing_channels(bot, protection.channels, user.id),
                lambda: mute(bot, chat_id, user.id),
            )
            # Back in the channel meanwhile, they are still muted for leaving it: the warning's
            # button lets them out.
            missing = missing or left
            muted = True
        else:  # the group's protection, as cached, does not list the channel yet
            missing, muted = check_missing_channels(bot, protection.channels, user.id), False
            if not missing:
                return
        do_restrict(bot, protection, user, missing, template=texts.LEFT_CHANNEL_WARNING,
                    muted=muted)  # fmt: skip
        logger.info(
            "guard: user=%s left channel=%s, muted in group=%s", user.id, channel_id, chat_id
        )
