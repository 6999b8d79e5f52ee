"""Guard handlers (SPEC G2-G10), registered on every bot.

pyTelegramBotAPI runs the first matching message handler, so the commands come before the
catch-all enforcement of group messages. Each handler parses and authorizes, then calls one
service in apps.guard.services.
"""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery, ChatMemberUpdated, Message

from apps.guard import keyboards, services, texts
from apps.ingress.dispatch import current_bot

GROUP_CHATS = ["group", "supergroup"]
# Everything a member can post; service messages (joins, pins, migrations) are not enforced.
POSTED_CONTENT = [
    "text", "photo", "video", "animation", "audio", "document", "voice", "video_note",
    "sticker", "contact", "location", "venue", "poll", "dice", "game", "story",
]  # fmt: skip


def start_or_help(message: Message, bot: TeleBot) -> None:
    """/start and /help in a private chat: a welcome and the three setup steps (SPEC G2)."""
    bot.send_message(message.chat.id, texts.HELP)


def _command_args(message: Message) -> list[str]:
    return (message.text or "").split()[1:]


def _admin_only(message: Message, bot: TeleBot, command: str) -> bool:
    """True when the caller may run the command; otherwise a polite refusal is sent."""
    if services.check_caller_is_admin(bot, current_bot(), message):
        return True
    bot.reply_to(message, texts.ADMINS_ONLY.format(command=command))
    return False


def protect(message: Message, bot: TeleBot) -> None:
    """/protect @channel [...]: check every requirement, then record and confirm (SPEC G3)."""
    if not _admin_only(message, bot, "protect"):
        return
    refs = services.parse_channel_refs(_command_args(message))
    if not refs:
        bot.reply_to(message, texts.PROTECT_USAGE)
        return
    me = current_bot()
    report = services.check_setup(bot, me, message.chat.id, refs)
    if not report.ok:
        bot.reply_to(message, report.text(texts.PROTECT_FAILED))
        return
    owner = services.check_owner(bot, message)
    protection = services.do_protect(
        me, message.chat.id, message.chat.title or "", owner, report.channels
    )
    channels = services.channel_names(protection.channels)
    bot.reply_to(message, report.text(texts.PROTECT_DONE.format(channels=channels)))


def reactivate(message: Message, bot: TeleBot) -> None:
    """/reactivate: after lost rights, check everything again and resume (SPEC G10)."""
    if not _admin_only(message, bot, "reactivate"):
        return
    me = current_bot()
    protection = services.protection_for(me, message.chat.id)
    if protection is None:
        bot.reply_to(message, texts.NOT_PROTECTED)
        return
    if protection.active:
        bot.reply_to(message, texts.REACTIVATE_NOT_PAUSED)
        return
    refs: list[str | int] = [channel.chat_id for channel in protection.channels]
    report = services.check_setup(bot, me, message.chat.id, refs)
    if not report.ok:
        bot.reply_to(message, report.text(texts.PROTECT_FAILED))
        return
    services.do_reactivate(me, message.chat.id)
    bot.reply_to(message, report.text(texts.REACTIVATE_DONE))


def unprotect(message: Message, bot: TeleBot) -> None:
    """/unprotect [@channel ...]: unlink channels, or switch protection off (SPEC G4)."""
    if not _admin_only(message, bot, "unprotect"):
        return
    refs = services.parse_channel_refs(_command_args(message))
    reply, _ = services.do_unprotect(current_bot(), message.chat.id, refs)
    bot.reply_to(message, reply)


def status(message: Message, bot: TeleBot) -> None:
    """/status: channels, state, verified and restricted counts (SPEC G4)."""
    if not _admin_only(message, bot, "status"):
        return
    bot.reply_to(message, services.status_text(current_bot(), message.chat.id))


def settings(message: Message, bot: TeleBot) -> None:
    """/settings [name value]: warning text, button texts, delete or mute only (SPEC G4)."""
    if not _admin_only(message, bot, "settings"):
        return
    args = (message.text or "").partition(" ")[2]
    bot.reply_to(message, services.do_settings(current_bot(), message.chat.id, args))


def new_members(message: Message, bot: TeleBot) -> None:
    """The join service message; its twin `chat_member` update is deduplicated (SPEC G5)."""
    for user in message.new_chat_members or []:
        services.do_enforce_join(bot, current_bot(), message.chat.id, user)


def group_message(message: Message, bot: TeleBot) -> None:
    """Any other message or edit in a group: enforce the subscription (SPEC G6)."""
    services.do_enforce_message(bot, current_bot(), message)


def verify_pressed(query: CallbackQuery, bot: TeleBot) -> None:
    """The "I've joined" button (SPEC G7)."""
    services.do_verify(bot, current_bot(), query)


def member_changed(update: ChatMemberUpdated, bot: TeleBot) -> None:
    """Joins in groups, leaves in channels, admin changes (SPEC G5, G8)."""
    services.do_member_changed(bot, current_bot(), update)


def bot_status_changed(update: ChatMemberUpdated, bot: TeleBot) -> None:
    """The bot itself was demoted or removed (SPEC G10)."""
    services.do_bot_status_changed(bot, current_bot(), update)


def _is_verify(query: CallbackQuery) -> bool:
    return keyboards.verify_target(query.data) is not None


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        start_or_help, commands=["start", "help"], chat_types=["private"], pass_bot=True
    )
    for command, handler in (
        ("protect", protect),
        ("unprotect", unprotect),
        ("status", status),
        ("settings", settings),
        ("reactivate", reactivate),
    ):
        bot.register_message_handler(
            handler, commands=[command], chat_types=GROUP_CHATS, pass_bot=True
        )
    bot.register_message_handler(
        new_members, content_types=["new_chat_members"], chat_types=GROUP_CHATS, pass_bot=True
    )
    bot.register_message_handler(
        group_message, content_types=POSTED_CONTENT, chat_types=GROUP_CHATS, pass_bot=True
    )
    bot.register_edited_message_handler(
        group_message, content_types=POSTED_CONTENT, chat_types=GROUP_CHATS, pass_bot=True
    )
    bot.register_callback_query_handler(verify_pressed, func=_is_verify, pass_bot=True)
    bot.register_chat_member_handler(member_changed, pass_bot=True)
    bot.register_my_chat_member_handler(bot_status_changed, pass_bot=True)
