"""Guard handlers (SPEC G2-G10), registered by the guard feature on the bots that run it.

pyTelegramBotAPI runs the first matching message handler, so the commands come before the
catch-all enforcement of group messages. A command only matches when it is addressed to this bot;
a non-admin's command is enforced like any other message (a non-subscriber's is deleted, the
sender muted and warned) and only otherwise refused. Each handler parses and authorizes, then
calls one service in apps.guard.services.
"""

from __future__ import annotations

from collections.abc import Callable

from telebot.types import CallbackQuery, ChatMemberUpdated, Message

from apps.bots.context import BotContext
from apps.bots.features import Handlers
from apps.guard import texts
from apps.guard.services import enforcement, rights, setup, verification
from apps.guard.services.protection import channel_names, check_caller_is_admin, protection_for

PRIVATE = ["private"]
GROUP_CHATS = ["group", "supergroup"]
# Everything a member can post; service messages (joins, pins, migrations) are not enforced.
POSTED_CONTENT = [
    "text", "photo", "video", "animation", "audio", "document", "voice", "video_note",
    "sticker", "contact", "location", "venue", "poll", "dice", "game", "story",
]  # fmt: skip


def start_or_help(message: Message, bot: BotContext) -> None:
    """/start and /help in a private chat: a welcome and the three setup steps (SPEC G2)."""
    bot.telebot.send_message(message.chat.id, texts.HELP)


def _command_args(message: Message) -> list[str]:
    return (message.text or "").split()[1:]


def _admin_only(message: Message, bot: BotContext, command: str) -> bool:
    """True when the caller may run the command. Otherwise the command is enforced like any
    message in the group (SPEC G6), and only a caller it did not act on gets a polite refusal:
    a non-subscriber's "/status@bot spam" is deleted, not answered."""
    if check_caller_is_admin(bot, message):
        return True
    if not enforcement.do_enforce_message(bot, message):
        bot.telebot.reply_to(message, texts.ADMINS_ONLY.format(command=command))
    return False


def protect(message: Message, bot: BotContext) -> None:
    """/protect @channel [...]: check every requirement, then record and confirm (SPEC G3)."""
    if not _admin_only(message, bot, "protect"):
        return
    refs = setup.parse_channel_refs(_command_args(message))
    if not refs:
        bot.telebot.reply_to(message, texts.PROTECT_USAGE)
        return
    report = setup.check_setup(bot, message.chat.id, refs)
    if not report.ok:
        bot.telebot.reply_to(message, report.text(texts.PROTECT_FAILED))
        return
    owner = setup.check_owner(bot, message)
    protection = setup.do_protect(
        bot, message.chat.id, message.chat.title or "", owner, report.channels
    )
    channels = channel_names(protection.channels)
    bot.telebot.reply_to(message, report.text(texts.PROTECT_DONE.format(channels=channels)))


def reactivate(message: Message, bot: BotContext) -> None:
    """/reactivate: after lost rights, check everything again and resume (SPEC G10)."""
    if not _admin_only(message, bot, "reactivate"):
        return
    protection = protection_for(bot, message.chat.id)
    if protection is None:
        bot.telebot.reply_to(message, texts.NOT_PROTECTED)
        return
    if protection.active:
        bot.telebot.reply_to(message, texts.REACTIVATE_NOT_PAUSED)
        return
    refs: list[str | int] = [channel.chat_id for channel in protection.channels]
    report = setup.check_setup(bot, message.chat.id, refs)
    if not report.ok:
        bot.telebot.reply_to(message, report.text(texts.PROTECT_FAILED))
        return
    setup.do_reactivate(bot, message.chat.id)
    bot.telebot.reply_to(message, report.text(texts.REACTIVATE_DONE))


def unprotect(message: Message, bot: BotContext) -> None:
    """/unprotect [@channel ...]: unlink channels, or switch protection off (SPEC G4)."""
    if not _admin_only(message, bot, "unprotect"):
        return
    refs = setup.parse_channel_refs(_command_args(message))
    reply, _ = setup.do_unprotect(bot, message.chat.id, refs)
    bot.telebot.reply_to(message, reply)


def status(message: Message, bot: BotContext) -> None:
    """/status: channels, state, verified and restricted counts (SPEC G4)."""
    if not _admin_only(message, bot, "status"):
        return
    bot.telebot.reply_to(message, setup.status_text(bot, message.chat.id))


def settings(message: Message, bot: BotContext) -> None:
    """/settings [name value]: warning text, button texts, delete or mute only (SPEC G4)."""
    if not _admin_only(message, bot, "settings"):
        return
    args = (message.text or "").partition(" ")[2]
    bot.telebot.reply_to(message, setup.do_settings(bot, message.chat.id, args))


def new_members(message: Message, bot: BotContext) -> None:
    """The join service message; its twin `chat_member` update is deduplicated (SPEC G5)."""
    for user in message.new_chat_members or []:
        enforcement.do_enforce_join(bot, message.chat.id, user)


def group_message(message: Message, bot: BotContext) -> None:
    """Any other message or edit in a group: enforce the subscription (SPEC G6)."""
    enforcement.do_enforce_message(bot, message)


def verify_pressed(query: CallbackQuery, bot: BotContext) -> None:
    """The "I've joined" button (SPEC G7)."""
    verification.do_verify(bot, query)


def member_changed(update: ChatMemberUpdated, bot: BotContext) -> None:
    """Joins in groups, leaves in channels, admin changes (SPEC G5, G8)."""
    enforcement.do_member_changed(bot, update)


def bot_status_changed(update: ChatMemberUpdated, bot: BotContext) -> None:
    """The bot itself was demoted or removed (SPEC G10)."""
    rights.do_bot_status_changed(bot, update)


GROUP_COMMANDS: dict[str, Callable[[Message, BotContext], None]] = {
    "protect": protect,
    "unprotect": unprotect,
    "status": status,
    "settings": settings,
    "reactivate": reactivate,
}
PRIVATE_COMMANDS = ["start", "help"]


def register(handlers: Handlers) -> None:
    handlers.command(start_or_help, PRIVATE_COMMANDS, chat_types=PRIVATE)
    for command, handler in GROUP_COMMANDS.items():
        handlers.command(handler, [command], chat_types=GROUP_CHATS)
    handlers.message(new_members, content_types=["new_chat_members"], chat_types=GROUP_CHATS)
    handlers.message(group_message, content_types=POSTED_CONTENT, chat_types=GROUP_CHATS)
    handlers.edited_message(group_message, content_types=POSTED_CONTENT, chat_types=GROUP_CHATS)
    handlers.callback_query(verify_pressed)
    handlers.chat_member(member_changed)
    handlers.my_chat_member(bot_status_changed)
