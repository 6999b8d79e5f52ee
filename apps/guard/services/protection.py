"""What a group requires, and the checks every flow makes before acting (SPEC G5-G9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.db.models import Exists, OuterRef, Q
from telebot.types import ChatMember, Message
from telebot.types import User as TgUser

from apps.bots.context import BotContext
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.guard import cache, texts
from apps.guard.models import GroupProtection
from gmbot import fanout, metrics

SERVICE_ACCOUNT_ID = 777000  # Telegram's own notices and channel forwards in old clients

DEFAULT_SETTINGS: dict[str, str] = {
    "warning": texts.DEFAULT_WARNING,
    "join_button": texts.DEFAULT_JOIN_BUTTON,
    "verify_button": texts.DEFAULT_VERIFY_BUTTON,
    "mode": "delete",
}
MODES = ("delete", "mute")


@dataclass(frozen=True)
class Protection:
    """A protected group as the flows need it: the group, the guard's state of it, its channels.
    Cached (pickled) through Django's cache, see `protection_for`."""

    group: Group
    state: GroupProtection
    channels: list[Channel]

    @property
    def active(self) -> bool:
        return self.state.paused_at is None

    def param(self, name: str) -> str:
        return setting(self.state, name)


def setting(state: GroupProtection, name: str) -> str:
    """One of the group's settings, or its default when the group never set it."""
    value = state.settings.get(name)
    return value if isinstance(value, str) and value else DEFAULT_SETTINGS[name]


_UNREAD = object()


def protection_for(bot: BotContext, chat_id: int, *, cached: object = _UNREAD) -> Protection | None:
    """The group's protection if it is on (and the group enabled) and requires at least one
    channel.

    Every message in a group asks, so the answer is cached (cache.protection: dropped whenever
    a group, its protection, a link or a channel changes); a miss is one query for the links
    with their group, its protection and the channel. `cached`: what the caller already read
    from the cache (cache.sender_state), so it is not read again."""
    if cached is _UNREAD:
        cached = cache.protection(bot.id, chat_id)
    if cached is not cache.UNKNOWN:
        return cast(Protection | None, cached)
    links = list(
        GroupChannelLink.objects.filter(
            group__bot_id=bot.id,
            group__chat_id=chat_id,
            group__enabled=True,
            group__protection__enabled=True,
        )
        .select_related("group__protection", "channel")
        .order_by("channel_id")
    )
    protection = None
    if links:
        group = links[0].group
        protection = Protection(group, group.protection, [link.channel for link in links])
    cache.remember_protection(bot.id, chat_id, protection)
    return protection


def channel_groups(bot: BotContext, channel_id: int) -> list[int]:
    """The chat ids of the groups the guard enforces now that require the channel. Cached
    (cache.channel_groups, dropped with any of the bot's protections); a miss is one query."""
    groups = cache.channel_groups(bot.id, channel_id)
    if groups is None:
        groups = list(
            Group.objects.filter(
                enforced_groups(),
                bot_id=bot.id,
                channel_links__channel__chat_id=channel_id,
                channel_links__channel__bot_id=bot.id,
            )
            .order_by("pk")
            .values_list("chat_id", flat=True)
            .distinct()
        )
        cache.remember_channel_groups(bot.id, channel_id, groups)
    return groups


def enforced_groups() -> Q:
    """A condition on Group: the guard enforces the group now (the group and its protection
    enabled, not paused, at least one linked channel) — what protection_for finds, as a filter
    for listings (the API, the admin)."""
    linked = Exists(GroupChannelLink.objects.filter(group=OuterRef("pk")))
    return Q(enabled=True, protection__enabled=True, protection__paused_at__isnull=True) & Q(linked)


def is_subscribed(member: ChatMember) -> bool:
    if member.status in ("creator", "administrator", "member"):
        return True
    return member.status == "restricted" and bool(getattr(member, "is_member", False))


def in_chat(member: ChatMember) -> bool:
    """A member who can be muted: in the chat, and not an admin."""
    return member.status == "member" or (
        member.status == "restricted" and bool(getattr(member, "is_member", False))
    )


def is_exempt_sender(message: Message, bot: BotContext) -> bool:
    """Senders never touched, decided from the message alone (no call): automatic forwards from
    the linked channel, anonymous admins and anyone posting as a chat (restrictChatMember cannot
    reach a chat), the bot itself, Telegram's service account and other bots."""
    if message.is_automatic_forward or message.sender_chat is not None:
        return True
    user = message.from_user
    return user is None or user.is_bot or user.id in (SERVICE_ACCOUNT_ID, bot.telegram_id)


def check_is_admin(
    bot: BotContext, chat_id: int, user_id: int, *, cached: set[int] | None = None
) -> bool:
    """Whether the user is the group's creator or an admin (admin list cached briefly;
    `cached`: the list the caller already read from the cache)."""
    admins = cached if cached is not None else cache.admin_ids(bot.telegram_id, chat_id)
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


@metrics.timed_verification
def check_missing_channels(
    bot: BotContext,
    channels: list[Channel],
    user_id: int,
    *,
    trust_negative: bool = True,
    use_cache: bool = True,
) -> list[Channel]:
    """The channels the user has not joined. Cached answers are used (a negative one only when
    `trust_negative`); the others are asked with getChatMember and cached. Reading the cache
    counts its hits and misses."""
    ids = [c.chat_id for c in channels]
    if use_cache:
        known = cache.memberships(bot.telegram_id, ids, user_id, trust_negative=trust_negative)
    else:
        known = {}
        cache.count_misses(len(ids))
    unknown = [
        channel.chat_id
        for channel in channels
        if known.get(channel.chat_id) is None or (not known[channel.chat_id] and not trust_negative)
    ]

    def ask(channel_id: int) -> bool:
        subscribed = is_subscribed(bot.telebot.get_chat_member(channel_id, user_id))
        cache.remember(bot.telegram_id, channel_id, user_id, subscribed)
        return subscribed

    # The channels left to ask are asked at once (gmbot/fanout.py): a group that requires two
    # waits for one answer's time, not two.
    known.update(zip(unknown, fanout.each(ask, unknown), strict=True))
    return [channel for channel in channels if not known[channel.chat_id]]


def display_name(user: TgUser) -> str:
    return user.first_name or (f"@{user.username}" if user.username else str(user.id))


def channel_names(channels: list[Channel]) -> str:
    return ", ".join(str(channel) for channel in channels)
