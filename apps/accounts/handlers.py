"""Handlers of the accounts feature (SPEC D1-D7), registered on the bots that run it.

Every message handler runs inside `_command`: a message holding a bot token is deleted first,
whatever else happens (SPEC D7), then the user's command limit is checked (SPEC D6) and only
within it does the handler run. Button presses are not commands: a check costs a point each,
and page turns edit the message they were pressed on.

Each handler parses, then calls a service in apps.accounts.services and shows the result with
apps.accounts.messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from telebot.types import CallbackQuery, Message, Update
from telebot.types import User as TgUser

from apps.accounts import jobs, keyboards, messages, texts
from apps.accounts.services import accounts, clones, conversations, limits, live, unlimited
from apps.accounts.services.conversations import Conversation, ConversationUnavailable
from apps.bots import features
from apps.bots.context import BotContext
from apps.bots.features import Handlers
from apps.telegram.client import answer_callback
from apps.telegram.errors import BadRequest

logger = logging.getLogger(__name__)

PRIVATE = ["private"]
GROUP_CHATS = ["group", "supergroup"]
PRIVATE_COMMANDS = ["start", "help", "live", "account", "clone", "cancel"]
GROUP_COMMANDS = ["init", "activate"]
# What a user may send in private besides commands; all of it gets an answer.
PRIVATE_CONTENT = [
    "text", "photo", "video", "animation", "audio", "document", "voice", "video_note",
    "sticker", "contact", "location", "venue", "poll", "dice",
]  # fmt: skip

MessageHandler = Callable[[Message, BotContext], None]


# ---- what every message handler does first ---------------------------------------------------


def _delete(bot: BotContext, message: Message) -> None:
    try:
        bot.telebot.delete_message(message.chat.id, message.message_id)
    except BadRequest as exc:
        # Too old or not ours to delete in a group: say so in the log, never the text.
        logger.warning(
            "accounts: could not delete a message holding a token in chat %s: %s",
            message.chat.id,
            exc.reason,
        )


def _command(handler: MessageHandler, *, takes_tokens: bool = False) -> MessageHandler:
    """Delete a message holding a token at once; then run `handler` only within the sender's
    command limit. A handler that does not `take_tokens` is not run for such a message."""

    def run(message: Message, bot: BotContext) -> None:
        holds_token = clones.find_token(message.text or message.caption or "") is not None
        if holds_token:
            _delete(bot, message)
        if message.from_user is None:
            return  # a channel's post: no user whose command it is
        verdict, wait = limits.check_command(
            bot.id, message.from_user.id, f"{message.chat.id}:{message.message_id}"
        )
        if verdict is limits.Verdict.REFUSE:
            limit, seconds = settings.ACCOUNTS_COMMAND_LIMIT, max(1, round(wait))
            bot.telebot.send_message(
                message.chat.id, texts.LIMITED.format(limit=limit, seconds=seconds)
            )
            return
        if verdict is limits.Verdict.SILENT:
            return
        if holds_token and not takes_tokens:
            bot.telebot.send_message(message.chat.id, texts.TOKEN_DELETED)
            return
        handler(message, bot)

    run.__qualname__ = handler.__qualname__
    return run


def _sender(message: Message) -> TgUser:
    """Who sent the message: always known here (`_command` passes no message without)."""
    assert message.from_user is not None
    return message.from_user


def _show(bot: BotContext, chat_id: int, shown: messages.Shown, edit: int | None = None) -> int:
    """Send the message, or edit message `edit` into it. Returns the message's id."""
    text, markup = shown
    if edit is not None:
        bot.telebot.edit_message_text(text, chat_id, edit, reply_markup=markup)
        return edit
    return int(bot.telebot.send_message(chat_id, text, reply_markup=markup).message_id)


def _where(query: CallbackQuery) -> tuple[int, int | None]:
    """The chat and message a button was pressed in."""
    if query.message is None:
        return query.from_user.id, None
    return query.message.chat.id, query.message.message_id


# ---- /start, /help, the menu -----------------------------------------------------------------


def start(message: Message, bot: BotContext) -> None:
    """/start [ref_<id>]: register, grant the start bonus, credit a referrer (SPEC D1)."""
    payload = (message.text or "").partition(" ")[2]
    started = accounts.do_start(bot, _sender(message), payload)
    _show(bot, message.chat.id, messages.welcome(bot, started.account, started.created))


def help_(message: Message, bot: BotContext) -> None:
    bot.telebot.send_message(message.chat.id, texts.HELP, reply_markup=keyboards.menu())


# ---- checking who is live (SPEC D3) ----------------------------------------------------------


def _check_live(
    bot: BotContext, chat_id: int, user_id: int, reference: str, query: CallbackQuery | None = None
) -> None:
    checked = live.do_check_live(bot, user_id, reference)
    if checked.outcome is live.Outcome.NO_ACCOUNT:
        if query is not None:
            answer_callback(bot.telebot, query.id, texts.START_FIRST, alert=True)
        else:
            bot.telebot.send_message(chat_id, texts.START_FIRST)
        return
    if checked.outcome is live.Outcome.NOBODY_LIVE:
        if query is not None:
            answer_callback(bot.telebot, query.id, texts.NOBODY_LIVE, alert=True)
        else:
            bot.telebot.send_message(chat_id, texts.NOBODY_LIVE)
        return
    assert checked.account is not None
    if checked.outcome is live.Outcome.NO_POINTS:
        shown = messages.no_points(bot, checked.account)
        if query is not None:
            answer_callback(bot.telebot, query.id, texts.NO_POINTS_ALERT, alert=True)
            # Edited, not sent: presses that find no point all land on the message pressed.
            _show(bot, chat_id, shown, edit=_where(query)[1])
        else:
            _show(bot, chat_id, shown)
        return
    if checked.balance is not None:
        footer = texts.LIVE_PAID.format(balance=checked.balance)
    elif live.is_unlimited(checked.account):
        footer = texts.LIVE_UNLIMITED
    else:
        footer = texts.LIVE_FREE_PAGES  # paid by an earlier run of this job
    if query is not None:
        answer_callback(bot.telebot, query.id)
    assert checked.page is not None
    message_id = _show(bot, chat_id, messages.live_page(checked.page, footer))
    live.open_view(bot, chat_id, message_id)


def live_command(message: Message, bot: BotContext) -> None:
    _check_live(bot, message.chat.id, _sender(message).id, f"m:{message.message_id}")


def _turn_page(query: CallbackQuery, bot: BotContext) -> None:
    chat_id, message_id = _where(query)
    number = keyboards.id_after(query.data or "", keyboards.PAGE)
    if message_id is None or number is None:
        answer_callback(bot.telebot, query.id)
        return
    if not live.view_is_open(bot, chat_id, message_id):
        answer_callback(bot.telebot, query.id, texts.VIEW_EXPIRED, alert=True)
        return
    answer_callback(bot.telebot, query.id)
    _show(
        bot,
        chat_id,
        messages.live_page(live.live_page(number), texts.LIVE_FREE_PAGES),
        edit=message_id,
    )


# ---- My account (SPEC D5) ---------------------------------------------------------------------


def _account(bot: BotContext, chat_id: int, user_id: int, edit: int | None = None) -> None:
    account = accounts.account_of(bot, user_id)
    if account is None:
        _show(bot, chat_id, (texts.START_FIRST, None), edit=edit)
        return
    shown = messages.account_view(
        bot, account, accounts.referrals_of(account), clones.owned_bots(user_id)
    )
    _show(bot, chat_id, shown, edit=edit)


def account_command(message: Message, bot: BotContext) -> None:
    _account(bot, message.chat.id, _sender(message).id)


def _ask_removal(query: CallbackQuery, bot: BotContext) -> None:
    chat_id, message_id = _where(query)
    bot_id = keyboards.id_after(query.data or "", keyboards.REMOVE)
    owned = {b.id: b for b in clones.owned_bots(query.from_user.id) if b.removable}
    answer_callback(bot.telebot, query.id)
    if bot_id not in owned:
        _show(bot, chat_id, (texts.REMOVE_UNKNOWN, keyboards.account_menu()), edit=message_id)
        return
    username = owned[bot_id].username
    _show(
        bot,
        chat_id,
        (texts.REMOVE_CONFIRM.format(bot=username), keyboards.remove_confirm(bot_id, username)),
        edit=message_id,
    )


def _remove(query: CallbackQuery, bot: BotContext) -> None:
    chat_id, message_id = _where(query)
    bot_id = keyboards.id_after(query.data or "", keyboards.REMOVE_YES)
    removed = clones.do_remove_clone(query.from_user.id, bot_id) if bot_id is not None else None
    answer_callback(bot.telebot, query.id)
    text = texts.REMOVED.format(bot=removed) if removed else texts.REMOVE_UNKNOWN
    _show(bot, chat_id, (text, keyboards.account_menu()), edit=message_id)


# ---- /clone and other conversations (SPEC D7) ------------------------------------------------


def _start_clone(bot: BotContext, chat_id: int, user_id: int) -> None:
    message_id = _show(bot, chat_id, messages.clone_picker(clones.feature_choices(), []))
    try:
        conversations.save(
            bot.id,
            user_id,
            Conversation(
                clones.FLOW, clones.STEP_FEATURES, {"features": [], "message_id": message_id}
            ),
        )
    except ConversationUnavailable:
        _show(bot, chat_id, (texts.CONVERSATION_UNAVAILABLE, None), edit=message_id)


def clone_command(message: Message, bot: BotContext) -> None:
    _start_clone(bot, message.chat.id, _sender(message).id)


def cancel(message: Message, bot: BotContext) -> None:
    """/cancel: leave the conversation, whatever step it is at."""
    try:
        ended = conversations.end(bot.id, _sender(message).id)
    except ConversationUnavailable:
        bot.telebot.send_message(message.chat.id, texts.CONVERSATION_UNAVAILABLE)
        return
    text = texts.CANCELLED if ended else texts.NOTHING_TO_CANCEL
    bot.telebot.send_message(message.chat.id, text, reply_markup=keyboards.menu())


def _clone_step(query: CallbackQuery, bot: BotContext) -> None:
    """A button of the clone picker: choose a feature, continue to the token, or cancel."""
    chat_id, message_id = _where(query)
    user_id, data = query.from_user.id, query.data or ""
    try:
        conversation = conversations.current(bot.id, user_id)
        if data == keyboards.CANCEL:
            conversations.end(bot.id, user_id)
            answer_callback(bot.telebot, query.id)
            _show(bot, chat_id, (texts.CANCELLED, keyboards.menu()), edit=message_id)
            return
        if (
            conversation is None
            or conversation.flow != clones.FLOW
            or conversation.step != clones.STEP_FEATURES
        ):
            answer_callback(bot.telebot, query.id, texts.CONVERSATION_EXPIRED, alert=True)
            return
        chosen: list[str] = list(conversation.data.get("features") or [])
        if data == keyboards.CONTINUE:
            try:
                chosen = clones.check_clone_features(chosen)
            except clones.CloneRefused as refused:
                answer_callback(bot.telebot, query.id, str(refused), alert=True)
                return
            conversations.save(
                bot.id, user_id, Conversation(clones.FLOW, clones.STEP_TOKEN, {"features": chosen})
            )
            answer_callback(bot.telebot, query.id)
            _show(bot, chat_id, (texts.CLONE_ASK_TOKEN, None), edit=message_id)
            return
        name = data[len(keyboards.CHOOSE) :]
        if name in dict(clones.feature_choices()):
            chosen = [n for n in chosen if n != name] if name in chosen else [*chosen, name]
            conversation.data["features"] = chosen
            conversations.save(bot.id, user_id, conversation)
        answer_callback(bot.telebot, query.id)
        _show(
            bot, chat_id, messages.clone_picker(clones.feature_choices(), chosen), edit=message_id
        )
    except ConversationUnavailable:
        answer_callback(bot.telebot, query.id, texts.CONVERSATION_UNAVAILABLE, alert=True)


def _receive_token(message: Message, bot: BotContext, conversation: Conversation) -> None:
    """The clone's token (its message is already deleted): check it, store the bot, and have
    its webhook registered. The conversation ends only once all that is done, so a job that
    runs again after a failure goes through the same steps (each safe to repeat)."""
    token = clones.find_token(message.text or message.caption or "")
    if token is None:
        bot.telebot.send_message(message.chat.id, texts.CLONE_NOT_A_TOKEN)
        return
    try:
        clone = clones.do_clone(
            bot, _sender(message), token, list(conversation.data.get("features") or [])
        )
    except clones.CloneRefused as refused:
        bot.telebot.send_message(message.chat.id, str(refused))
        return
    sent = bot.telebot.send_message(
        message.chat.id, texts.CLONE_CHECKED.format(bot=clone.bot.username)
    )
    jobs.after_commit(jobs.REGISTER_CLONE, clone.pk, message.chat.id, sent.message_id)
    conversations.end(bot.id, _sender(message).id)


def private_message(message: Message, bot: BotContext) -> None:
    """Anything else in private: the answer a conversation waits for, or a polite pointer."""
    try:
        conversation = conversations.current(bot.id, _sender(message).id)
    except ConversationUnavailable:
        bot.telebot.send_message(message.chat.id, texts.CONVERSATION_UNAVAILABLE)
        return
    if conversation is not None and conversation.flow == clones.FLOW:
        if conversation.step == clones.STEP_TOKEN:
            _receive_token(message, bot, conversation)
        else:
            bot.telebot.send_message(message.chat.id, texts.CLONE_CHOOSE_FIRST)
        return
    if clones.find_token(message.text or message.caption or "") is not None:
        bot.telebot.send_message(message.chat.id, texts.TOKEN_DELETED)
        return
    bot.telebot.send_message(message.chat.id, texts.FALLBACK, reply_markup=keyboards.menu())


# ---- /init and /activate in a group (SPEC D4) ---------------------------------------------------


def group_command(message: Message, bot: BotContext) -> None:
    """/init registers the group for the caller, /activate grants them unlimited points: both
    only for an admin of the group, with the bot an admin there too."""
    command = (message.text or "").split(maxsplit=1)[0].lstrip("/").split("@")[0].lower()
    chat_id = message.chat.id
    if message.chat.type == "private":
        bot.telebot.send_message(chat_id, texts.GROUP_ONLY.format(command=command))
        return
    if message.sender_chat is not None or message.from_user is None:
        bot.telebot.reply_to(message, texts.GROUP_ANONYMOUS.format(command=command))
        return
    user = message.from_user
    check = unlimited.check_group(bot, chat_id, user.id)
    if not check.caller_is_admin:
        bot.telebot.reply_to(message, texts.GROUP_ADMINS_ONLY.format(command=command))
        return
    if not check.bot_is_admin:
        bot.telebot.reply_to(message, texts.GROUP_BOT_NOT_ADMIN.format(command=command))
        return
    account = accounts.account_of(bot, user.id)
    name = user.first_name or user.username or str(user.id)
    if account is None:
        bot.telebot.reply_to(
            message, texts.GROUP_START_FIRST.format(name=name, bot=bot.username, command=command)
        )
        return
    if command == "init":
        _, created = unlimited.do_register_group(bot, account, chat_id, message.chat.title or "")
        bot.telebot.reply_to(
            message, (texts.INIT_DONE if created else texts.INIT_AGAIN).format(name=name)
        )
        return
    registration = unlimited.registration_of(bot, account, chat_id)
    if registration is None:
        bot.telebot.reply_to(message, texts.ACTIVATE_INIT_FIRST.format(name=name))
        return
    until = unlimited.do_activate(registration)
    bot.telebot.reply_to(message, texts.ACTIVATE_DONE.format(name=name, until=messages.day(until)))


# ---- buttons ------------------------------------------------------------------------------------


def pressed(query: CallbackQuery, bot: BotContext) -> None:
    """Every button of the feature (callback data `ac:…`)."""
    data = query.data or ""
    chat_id, message_id = _where(query)
    user_id = query.from_user.id
    if data == keyboards.LIVE:
        _check_live(bot, chat_id, user_id, f"q:{query.id}", query)
    elif data.startswith(keyboards.PAGE):
        _turn_page(query, bot)
    elif data == keyboards.ACCOUNT:
        answer_callback(bot.telebot, query.id)
        _account(bot, chat_id, user_id, edit=message_id)
    elif data == keyboards.HELP:
        answer_callback(bot.telebot, query.id)
        _show(bot, chat_id, (texts.HELP, keyboards.menu()), edit=message_id)
    elif data == keyboards.CLONE:
        answer_callback(bot.telebot, query.id)
        _start_clone(bot, chat_id, user_id)
    elif data.startswith((keyboards.CHOOSE, keyboards.CONTINUE, keyboards.CANCEL)):
        _clone_step(query, bot)
    elif data.startswith(keyboards.REMOVE_YES):
        _remove(query, bot)
    elif data.startswith(keyboards.REMOVE):
        _ask_removal(query, bot)
    else:
        answer_callback(bot.telebot, query.id)  # a button of an older version: nothing to do


# ---- observers ----------------------------------------------------------------------------------


def private_status_changed(update: Update, bot: BotContext) -> None:
    """The user blocked the bot or started it again (my_chat_member in a private chat)."""
    change = update.my_chat_member
    if change is not None and change.chat.type == "private":
        accounts.do_set_blocked(bot, change.chat.id, change.new_chat_member.status == "kicked")


def register(handlers: Handlers) -> None:
    private_commands: dict[str, MessageHandler] = {
        "start": start,
        "help": help_,
        "live": live_command,
        "account": account_command,
        "clone": clone_command,
        "cancel": cancel,
    }
    for command, handler in private_commands.items():
        handlers.command(_command(handler), [command], chat_types=PRIVATE)
    handlers.command(_command(group_command), GROUP_COMMANDS, chat_types=[*PRIVATE, *GROUP_CHATS])
    # The rest of the private chat, but for the commands the bot's other features answer.
    others = {
        command
        for feature in features.enabled(handlers.bot.features)
        if feature is not handlers.feature
        for command in feature.commands
    }
    handlers.message(
        _command(private_message, takes_tokens=True),
        content_types=PRIVATE_CONTENT,
        chat_types=PRIVATE,
        func=lambda message: _command_name(message) not in others,
    )
    handlers.callback_query(pressed)


def _command_name(message: Message) -> str | None:
    text = message.text or ""
    if not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].split("@")[0].lower()
