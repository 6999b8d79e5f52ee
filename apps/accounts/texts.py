"""What the bot says in private chats and for /init and /activate, apart from the logic.

Plain text (no parse mode): names, titles and handles are shown as users wrote them. Alerts
(answers to a button) stay within Telegram's 200 characters.
"""

from __future__ import annotations

HELP = (
    "What I do:\n"
    "🔴 Who's live: see who is streaming now. 1 point; paging is free for 10 minutes.\n"
    "👤 My account: your points, referrals, bots and referral link.\n"
    "🤖 Clone: a bot of your own like me, with a token from @BotFather.\n"
    "\n"
    "Points: 10 when you start, 10 every day, 10 for each friend who starts me through your "
    "link. Unlimited: make me an admin of a group you admin, then send /init and /activate "
    "there.\n"
    "\n"
    "Commands: /live /account /clone /cancel /help"
)

# ---- /start -----------------------------------------------------------------------------------

WELCOME = (
    "Welcome, {name}! 🎉 You have {points} points to see who is live.\n"
    "\n"
    "A check costs 1 point. You get 10 more every day, and 10 for each friend who starts me "
    "through your link:\n"
    "{link}"
)
WELCOME_REFERRED = "\n\nYou came through {referrer}'s link: they got 10 points for it."
WELCOME_BACK = "Welcome back, {name}! You have {points} points."
WELCOME_BACK_UNLIMITED = "Welcome back, {name}! Your points are unlimited until {until}."
REFERRER_TOLD = "🎉 {name} started me through your link: +{points} points. You have {balance} now."
START_FIRST = "Please send /start first, then try again."
FALLBACK = "Sorry, I didn't get that. Use the buttons below, or /help."

# ---- checking who is live ---------------------------------------------------------------------

LIVE_HEADER = "🔴 Live now: page {number} of {pages} ({total} live)"
LIVE_LINE = "{n}. {title}: {platform}/{handle}{since}"
LIVE_SINCE = ", live for {minutes} min"
LIVE_PAID = "1 point taken, {balance} left. Paging is free for 10 minutes."
LIVE_FREE_PAGES = "Paging is free for 10 minutes."
LIVE_UNLIMITED = "♾ Your points are unlimited: checks are free."
NOBODY_LIVE = "Nobody is live right now, so no point was taken. Try again later."
LIVE_NONE_NOW = "Nobody is live right now."
VIEW_EXPIRED = "This list is over 10 minutes old. Press «Who's live» for a fresh one (1 point)."
NO_POINTS = (
    "You're out of points. Here is how to get more:\n"
    "• 10 points every day, all by themselves.\n"
    "• 10 points for each friend who starts me through your link:\n"
    "{link}\n"
    "• Unlimited points: make me an admin of a group you admin, then send /init and /activate "
    "there."
)
NO_POINTS_ALERT = "You're out of points. See the message for how to earn more."

# ---- My account -------------------------------------------------------------------------------

ACCOUNT = (
    "👤 Your account\n"
    "Points: {points}\n"
    "Referrals: {count} joined through your link, +{referral_points} points\n"
    "Your bots: {bots}\n"
    "Your referral link: {link}"
)
POINTS_UNLIMITED = "unlimited until {until} ({points} saved for later)"
NO_BOTS = "none yet (/clone makes one)"
REMOVE_CONFIRM = "Remove @{bot}? It stops answering, and what is stored for it here is deleted."
REMOVED = "@{bot} is removed and its token deleted here. You may also revoke it with @BotFather."
REMOVE_UNKNOWN = "That bot is not one of your clones."

# ---- the command limit (SPEC D6) --------------------------------------------------------------

LIMITED = (
    "⏳ That is more than {limit} commands a minute, so I skip them for now. Please wait "
    "{seconds} s."
)

# ---- /clone (SPEC D7) -------------------------------------------------------------------------

CLONE_START = (
    "Let's make a bot of your own that I run for you.\n"
    "\n"
    "First, what should it do? Tap to choose, then «Continue»:\n"
    "{choices}"
)
CLONE_CHOICE = "• {label}"
CLONE_ASK_TOKEN = (
    "Now make a bot with @BotFather (/newbot) and send me its token here. I delete your "
    "message at once and keep the token encrypted.\n"
    "/cancel stops."
)
CLONE_CHECKED = "⏳ Token checked: @{bot} is yours. Setting it up…"
CLONE_READY = (
    "✅ @{bot} is ready and runs: {features}.\n"
    "Open it: https://t.me/{bot}\n"
    "You can see or remove it in «My account»."
)
CLONE_READY_POLLING = (
    "✅ @{bot} is set up and runs: {features}.\n"
    "This service has no public address, so @{bot} answers once its operator starts runbot."
)
CLONE_WEBHOOK_FAILED = (
    "@{bot} is stored, but Telegram refused its webhook: {reason}. Remove it in «My account» "
    "and /clone it again later."
)
CLONE_BAD_TOKEN = (
    "That token did not work ({reason}). Check it with @BotFather and send it again, or /cancel."
)
CLONE_NOT_A_TOKEN = (
    "That is not a bot token (digits, a colon, then 35 letters, digits, _ or -). Send the one "
    "@BotFather gave you, or /cancel."
)
CLONE_OWN_TOKEN = "That is my own token! Send the token of the bot you made, or /cancel."
CLONE_ALREADY_SERVED = (
    "@{bot} is already run here by someone else, so it cannot be cloned. Send another token, "
    "or /cancel."
)
CLONE_NO_FEATURES = "Choose at least one thing for your bot to do."
CLONE_BAD_FEATURES = "Those cannot run together: {reason}."
CLONE_CHOOSE_FIRST = (
    "Choose what your bot does with the buttons above, then «Continue» (or /cancel)."
)
TOKEN_DELETED = (
    "That looked like a bot token, so I deleted your message to keep it safe. To clone a bot, "
    "send /clone first."
)
CANCELLED = "Cancelled. Nothing was kept."
NOTHING_TO_CANCEL = "There is nothing to cancel."
CONVERSATION_UNAVAILABLE = (
    "Sorry, I cannot keep track of that right now. Please try again in a minute."
)
CONVERSATION_EXPIRED = "That question has expired. Send /clone to start again."

# ---- /init and /activate in a group (SPEC D4) ----------------------------------------------------

GROUP_ONLY = (
    "Send /{command} in a group you admin, with me as an admin there too: /init registers the "
    "group, then /activate gives you unlimited points."
)
GROUP_ANONYMOUS = (
    "I cannot tell who you are while you post anonymously. Turn off «Remain anonymous», then "
    "send /{command} again."
)
GROUP_START_FIRST = (
    "{name}, please start me in a private chat first (https://t.me/{bot}), then send "
    "/{command} here again."
)
GROUP_ADMINS_ONLY = "Sorry, only this group's admins can use /{command}."
GROUP_BOT_NOT_ADMIN = (
    "I need to be an admin of this group first. Make me one, then send /{command} again."
)
INIT_DONE = "✅ This group is registered for {name}. Send /activate here for unlimited points."
INIT_AGAIN = (
    "This group is already registered for {name}. Send /activate here for unlimited points."
)
ACTIVATE_INIT_FIRST = "{name}, please send /init in this group first."
ACTIVATE_DONE = "♾ {name} has unlimited points until {until}. Send /activate here again to renew."

# ---- buttons ------------------------------------------------------------------------------------

BUTTON_LIVE = "🔴 Who's live"
BUTTON_ACCOUNT = "👤 My account"
BUTTON_CLONE = "🤖 Clone this bot"
BUTTON_HELP = "❓ Help"
BUTTON_PREVIOUS = "◀ Previous"
BUTTON_NEXT = "Next ▶"
BUTTON_WATCH = "▶ {handle} on {platform}"
BUTTON_SHARE = "📣 Share my link"
BUTTON_CONTINUE = "Continue ▶"
BUTTON_CANCEL = "Cancel"
BUTTON_CHOSEN = "☑ {label}"
BUTTON_NOT_CHOSEN = "☐ {label}"
BUTTON_REMOVE = "🗑 Remove @{bot}"
BUTTON_REMOVE_YES = "Yes, remove @{bot}"
BUTTON_KEEP = "Keep it"
SHARE_TEXT = "See who is live with me"
