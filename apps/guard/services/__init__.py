"""Channel-subscription enforcement (SPEC G3-G11): who may speak, and what the bot does about it.

One module per concern:
- protection: what a group requires and who is exempt (the cached `Protection`, the checks);
- enforcement: a message, a join or a channel leave → mute, record, warn (`do_restrict`);
- verification: the "I've joined" button;
- setup: /protect, /unprotect, /status, /settings, /reactivate;
- rights: lost rights pause a group and its owner is told;
- batch: re-checking recently active members off-peak.

`check_*` functions ask and decide without changing anything; `do_*` functions act (Telegram
calls, rows) and say in their docstring what they lock. Handlers (apps.guard.handlers) and tasks
call these with the bot's context (`bot`, apps/bots/context.py); every one is safe to run twice
for the same update, because a failed update is retried.

Rights errors never loop: a refusal for lack of rights pauses the group (`rights.do_pause`) and
is swallowed, and a paused group gets no enforcement call until an admin runs /reactivate.
"""
