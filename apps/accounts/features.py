"""The accounts feature (SPEC D1-D7): the bot in private chats, as the registry knows it.

It answers /start, so a bot runs it or the guard (whose /start gives the guard's setup help),
not both: a deployment runs a guard bot and a points bot side by side.
"""

from __future__ import annotations

from apps.accounts import handlers, keyboards
from apps.bots.features import Feature

ACCOUNTS = Feature(
    name="accounts",
    label="Accounts: points, referrals, who is live, clones, in private chats (SPEC D)",
    handlers=handlers.register,
    observers=(handlers.private_status_changed,),
    commands=frozenset([*handlers.PRIVATE_COMMANDS, *handlers.GROUP_COMMANDS]),
    callback_prefix=keyboards.PREFIX,
    # Private messages and commands (and /init, /activate in groups), its buttons, and the
    # user blocking or restarting the bot.
    update_kinds=frozenset({"message", "callback_query", "my_chat_member"}),
)
