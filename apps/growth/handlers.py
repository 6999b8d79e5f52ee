"""Growth handlers (SPEC M1, M2), registered by the growth feature on the bots that run it.

Each parses and authorizes, then calls one service in apps.growth.services. `/growth` is for the
group's admins; a non-admin's `/growth` on a bot that also runs the guard is enforced like any
message (the guard's rule, SPEC G6) and answered only if the guard did not act on the sender.
"""

from __future__ import annotations

from telebot.types import CallbackQuery, ChatJoinRequest, Message

from apps.bots.context import BotContext
from apps.bots.features import Handlers
from apps.chats.models import Group
from apps.growth import texts
from apps.growth.services import phases, report, requests
from apps.guard.services import enforcement
from apps.guard.services.protection import check_caller_is_admin

GROUP_CHATS = ["group", "supergroup"]
GROUP_COMMANDS = ["growth"]


def _admin_only(message: Message, bot: BotContext) -> bool:
    if check_caller_is_admin(bot, message):
        return True
    if "guard" in bot.features and enforcement.do_enforce_message(bot, message):
        return False
    bot.telebot.reply_to(message, texts.ADMINS_ONLY.format(command="growth"))
    return False


def _by(message: Message) -> str:
    """Who made a change from the group: the admin's Telegram id (the group itself for an
    anonymous admin)."""
    return str(message.from_user.id if message.from_user else message.chat.id)


def growth(message: Message, bot: BotContext) -> None:
    """/growth: the report; /growth phase <phase>: change the phase (admins only)."""
    if not _admin_only(message, bot):
        return
    args = (message.text or "").split()[1:]
    group, _ = Group.objects.get_or_create(
        bot_id=bot.id, chat_id=message.chat.id, defaults={"title": message.chat.title or ""}
    )
    profile = phases.profile_of(group)
    if not args:
        bot.telebot.reply_to(message, report.report_text(group, profile))
        return
    if args[0].lower() != "phase" or len(args) != 2:
        bot.telebot.reply_to(message, texts.USAGE)
        return
    try:
        to_phase = phases.check_phase(args[1])
    except phases.PhaseError as exc:
        bot.telebot.reply_to(message, f"{exc}\n\n{texts.USAGE}")
        return
    transition = phases.do_set_phase(
        profile.pk, to_phase, reason="/growth phase in the group", by=_by(message)
    )
    if transition is None:
        bot.telebot.reply_to(message, texts.PHASE_SAME.format(phase=to_phase))
        return
    bot.telebot.reply_to(
        message,
        texts.PHASE_SET.format(from_phase=transition.from_phase, to_phase=transition.to_phase),
    )


def join_request(request: ChatJoinRequest, bot: BotContext) -> None:
    """A chat_join_request: stored once and decided (SPEC M2)."""
    requests.do_receive(bot, request)


def joined_pressed(query: CallbackQuery, bot: BotContext) -> None:
    """The "I've joined" button in the requester's private chat (SPEC M2)."""
    requests.do_joined_pressed(bot, query)


def register(handlers: Handlers) -> None:
    handlers.command(growth, GROUP_COMMANDS, chat_types=GROUP_CHATS)
    handlers.chat_join_request(join_request)
    handlers.callback_query(joined_pressed)
