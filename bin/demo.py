#!/usr/bin/env python3
"""The scripted demonstration behind `make demo`, run against the stack `make up` started.

It plays a user's part in the sandbox (the local Telegram) and shows what GMBot did in answer.
Each feature adds its scene to SCENES.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gmbot.env import env  # noqa: E402 - loads .env, as every process of the stack does
from sandbox.client import Sandbox  # noqa: E402

DEMO_BOT_TOKEN = "7000000001:gmbot-demo-token-for-the-sandbox-only"  # noqa: S105 - sandbox only
DEMO_BOT_USERNAME = "gmbot_demo_bot"


def say(text: str) -> None:
    print(f"\n== {text}")


def manage(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"demo: manage.py {args[0]} failed:\n{result.stderr.strip()}")
    return result.stdout


def scene_add_bot(sandbox: Sandbox) -> None:
    say("A bot is created in the sandbox's Telegram and added to GMBot with its token")
    sandbox.create_bot(token=DEMO_BOT_TOKEN, username=DEMO_BOT_USERNAME)
    # The token goes in on stdin, never on a command line.
    # It runs the guard and broadcasts (scene_broadcast) from the start: a worker picks up a
    # change of a bot's features only when it next reads the row, up to a minute later.
    out = manage("addbot", "--token", "-", "--features", "guard,broadcasts",
                 stdin=DEMO_BOT_TOKEN + "\n")  # fmt: skip
    for line in out.splitlines():
        print(f"  {line}")
    calls = sandbox.calls(method="getMe")
    print(f"  GMBot checked the token with getMe: {len(calls)} call(s) seen by the sandbox")


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    """Poll until the stack has done what the scene expects (the workers run asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"demo: GMBot did not answer in {timeout:.0f}s; see the logs (make status)")


def scene_webhook(sandbox: Sandbox) -> None:
    """The pipeline (SPEC W, T, Q): Telegram → webhook → queue `high` → worker → Telegram."""
    bot = DEMO_BOT_USERNAME
    web = env("WEB_PORT", "8000")
    say("The bot's webhook is set to the web process (a fresh secret, stored as a hash)")
    manage("setwebhook", "--bot", bot, "--url", f"http://127.0.0.1:{web}")
    print(f"  webhook → http://127.0.0.1:{web}/api/webhooks/telegram")

    say("Ana opens the bot and sends /start: the update travels webhook → high → worker")
    ana = sandbox.create_user("Ana", username="ana")["id"]
    sandbox.start(ana, bot)
    answer = wait_for(lambda: [c for c in sandbox.calls(bot=bot, method="sendMessage", chat_id=ana)
                               if c["status"] == 200])[0]  # fmt: skip
    delivered = sandbox.webhook(bot)["deliveries"]
    print(f"  the sandbox delivered {len(delivered)} update(s) to the webhook; the bot answered:")
    for line in answer["params"]["text"].splitlines():
        print(f"  bot:  {line}" if line else "")


def scene_guard(sandbox: Sandbox) -> None:
    """GroupGuard (SPEC G3-G8): only the channel's subscribers may speak in the group."""
    bot = DEMO_BOT_USERNAME

    olga = sandbox.create_user("Olga", username="olga")["id"]
    group = sandbox.create_chat("supergroup", title="Olga's fans", owner_id=olga)["id"]
    channel = sandbox.create_chat("channel", title="Olga's news", username="olga_news",
                                  owner_id=olga)["id"]  # fmt: skip
    sandbox.add_bot(bot, group, status="administrator", can_delete_messages=True,
                    can_restrict_members=True)  # fmt: skip
    sandbox.add_bot(bot, channel, status="administrator")
    say("Olga owns the group «Olga's fans» and the channel @olga_news; the bot is admin in both")

    def group_texts() -> list[dict[str, Any]]:
        calls = sandbox.calls(bot=bot, method="sendMessage", chat_id=group)
        return [c for c in calls if c["status"] == 200]

    def status(user: int) -> str:
        return str(sandbox.member(group, user)["status"])

    sandbox.message(olga, group, "/protect @olga_news")
    reply = wait_for(lambda: [c for c in group_texts() if "Protection is active" in
                              c["params"]["text"]])[0]  # fmt: skip
    print("  Olga: /protect @olga_news")
    for line in reply["params"]["text"].splitlines():
        print(f"  bot:  {line}" if line else "")

    say("Sam is subscribed to the channel; he joins and writes")
    sam = sandbox.create_user("Sam")["id"]
    sandbox.set_member(channel, sam, "member")
    sandbox.join(sam, group)
    sam_message = sandbox.message(sam, group, "Hi all!")["message_id"]
    time.sleep(1)
    print(f"  Sam is {status(sam)}, his message is still there: "
          f"{any(m['message_id'] == sam_message for m in sandbox.messages(group))}")  # fmt: skip

    say("Nina and Nick are not subscribed: Nina joins, Nick was already in the group and writes")
    nina = sandbox.create_user("Nina")["id"]
    nick = sandbox.create_user("Nick")["id"]
    sandbox.set_member(group, nick, "member", by=olga)
    wait_for(lambda: status(nick) == "restricted")  # the bot saw him arrive and muted him
    sandbox.set_member(group, nick, "member", by=olga)  # Olga lifts it by hand
    sandbox.join(nina, group)
    nick_message = sandbox.message(nick, group, "Cheap followers, DM me")["message_id"]
    wait_for(lambda: status(nina) == "restricted" and status(nick) == "restricted")
    deleted = any(m["message_id"] == nick_message and m.get("deleted")
                  for m in sandbox.messages(group, include_deleted=True))  # fmt: skip
    print(f"  Nina is {status(nina)}; Nick is {status(nick)} and his message deleted: {deleted}")
    warnings = wait_for(lambda: [c for c in group_texts() if "reply_markup" in c["params"]])
    for warning in warnings:
        buttons = [b["text"] for row in warning["params"]["reply_markup"]["inline_keyboard"]
                   for b in row]  # fmt: skip
        print(f"  bot:  {warning['params']['text']}   {buttons}")

    say("Nina presses «I've joined» before joining, then joins @olga_news and presses again")
    nina_warning = next(w for w in warnings if "Nina" in w["params"]["text"])
    warning_id = nina_warning["response"]["result"]["message_id"]
    sandbox.press(nina, group, warning_id)
    alert = wait_for(lambda: sandbox.calls(bot=bot, method="answerCallbackQuery"))[-1]
    print(f"  alert: {alert['params']['text']}")
    sandbox.set_member(channel, nina, "member")
    sandbox.press(nina, group, warning_id)
    wait_for(lambda: status(nina) == "member")
    alert = sandbox.calls(bot=bot, method="answerCallbackQuery")[-1]
    print(f"  alert: {alert['params']['text']}")
    print(f"  Nina is {status(nina)} again; her warning is gone: "
          f"{all(m['message_id'] != warning_id for m in sandbox.messages(group))}")  # fmt: skip

    say("Sam leaves @olga_news")
    sandbox.leave(sam, channel)
    wait_for(lambda: status(sam) == "restricted")
    print(f"  Sam is {status(sam)} in the group and was warned again")

    sandbox.message(olga, group, "/status")
    report = wait_for(lambda: [c for c in group_texts() if c["params"]["text"].startswith("🛡 Pro")])
    say("Summary")
    print("  Olga: /status")
    for line in report[-1]["params"]["text"].splitlines():
        print(f"  bot:  {line}")
    restricts = len(sandbox.calls(bot=bot, method="restrictChatMember"))
    deletes = len(sandbox.calls(bot=bot, method="deleteMessage"))
    print(f"  one command protected the group; {restricts} restrictions and {deletes} deletions "
          "later, only subscribers of @olga_news can write in «Olga's fans».")  # fmt: skip


def scene_accounts(sandbox: Sandbox) -> None:
    """The points bot in private chats (SPEC D1-D5): a second bot that runs the accounts
    feature (not the guard: both answer /start), and live entries made through apps/live."""
    from datetime import timedelta
    from functools import partial

    import django

    django.setup()
    from django.db.models import Count, Sum
    from django.utils import timezone

    from apps.accounts.models import Account
    from apps.bots.models import Bot, Owner
    from apps.live.services import do_upsert_live

    bot, token = "gmbot_points_bot", "7000000002:gmbot-points-demo-token-for-the-sandbox-only"
    web = env("WEB_PORT", "8000")
    Bot.objects.filter(username=bot).delete()  # last run's accounts belong to a world gone
    say("A second bot, @gmbot_points_bot, runs the points feature; seven streamers are live")
    sandbox.create_bot(token=token, username=bot)
    manage("addbot", "--token", "-", "--features", "accounts", stdin=token + "\n")
    manage("setwebhook", "--bot", bot, "--url", f"http://127.0.0.1:{web}")
    owner, _ = Owner.objects.get_or_create(telegram_id=5_000_000_016, username="live_demo")
    owner.live_entries.all().delete()  # this scene's own streamers, from the last run
    streams = ["Speedrun night", "Pasta live", "Acoustic set", "Chess blitz", "Q&A", "Lo-fi",
               "Retro games"]  # fmt: skip
    for n, title in enumerate(streams):
        handle = title.lower().replace(" ", "_").replace("&", "n").replace("-", "")
        do_upsert_live(
            owner,
            "twitch",
            handle,
            title=title,
            url=f"https://twitch.tv/{handle}",
            live_since=timezone.now() - timedelta(minutes=5 + 20 * n),
            is_live=True,
        )

    def shown(user: int, start: str) -> list[dict[str, Any]]:
        return [m for m in sandbox.messages(user, bot=bot) if m.get("text", "").startswith(start)]

    def bot_says(text: str) -> None:
        for line in text.splitlines():
            print(f"  bot:  {line}" if line else "")

    say("Rita starts the bot; Tom starts it through Rita's referral link")
    rita = sandbox.create_user("Rita")["id"]
    tom = sandbox.create_user("Tom")["id"]
    sandbox.start(rita, bot)
    welcome = wait_for(lambda: shown(rita, "Welcome, Rita"))[0]
    print("  Rita: /start")
    bot_says(welcome["text"])
    sandbox.start(tom, bot, f"ref_{rita}")
    tom_menu = wait_for(lambda: shown(tom, "Welcome, Tom"))[0]
    print(f"  Tom: /start ref_{rita}   (the link in Rita's welcome)")
    bot_says(tom_menu["text"])
    told = wait_for(lambda: shown(rita, "🎉"))[0]
    print("  to Rita:")
    bot_says(told["text"])

    say("Both press «Who's live» (1 point each); Next is free and edits the same message")
    for user, menu in ((rita, welcome), (tom, tom_menu)):
        sandbox.press(user, user, menu["message_id"], "ac:live", bot=bot)
    listed = wait_for(lambda: shown(rita, "🔴 Live now"))[0]
    wait_for(lambda: shown(tom, "🔴 Live now"))
    bot_says(listed["text"])
    sandbox.press(rita, rita, listed["message_id"], "ac:pg:2", bot=bot)
    wait_for(lambda: shown(rita, "🔴 Live now: page 2"))
    print(
        f"  Rita presses Next: the same message now shows page 2, still "
        f"{Account.objects.get(bot__username=bot, telegram_id=rita).points} points"
    )

    say("Tom keeps checking until his points run out, and is told how to earn more")
    for _ in range(9):
        sandbox.press(tom, tom, tom_menu["message_id"], "ac:live", bot=bot)
    wait_for(lambda: len(shown(tom, "🔴 Live now")) == 10, timeout=40)
    sandbox.press(tom, tom, tom_menu["message_id"], "ac:live", bot=bot)
    earn = wait_for(lambda: shown(tom, "You're out of points"))[0]
    alert = sandbox.calls(bot=bot, method="answerCallbackQuery")[-1]["params"]["text"]
    print(f"  alert: {alert}")
    bot_says(earn["text"])

    say("Vera admins a group, the bot is admin there too: /init and /activate, unlimited points")
    vera = sandbox.create_user("Vera")["id"]
    sandbox.start(vera, bot)
    vera_menu = wait_for(lambda: shown(vera, "Welcome, Vera"))[0]
    group = sandbox.create_chat("supergroup", title="Vera's streamers", owner_id=vera)["id"]
    sandbox.add_bot(bot, group, status="administrator")

    def in_group(start: str) -> list[dict[str, Any]]:
        calls = sandbox.calls(bot=bot, method="sendMessage", chat_id=group)
        return [c for c in calls if c["status"] == 200 and c["params"]["text"].startswith(start)]

    for command, answer in (("/init", "✅"), ("/activate", "♾")):
        sandbox.message(vera, group, command)
        reply = wait_for(partial(in_group, answer))[0]
        print(f"  Vera: {command}")
        bot_says(reply["params"]["text"])
    sandbox.press(vera, vera, vera_menu["message_id"], "ac:live", bot=bot)
    free = wait_for(lambda: shown(vera, "🔴 Live now"))[0]
    print(f"  Vera presses «Who's live»: {free['text'].splitlines()[-1]}")

    say("Summary: every change of points is a ledger row")
    for name, user in (("Rita", rita), ("Tom", tom), ("Vera", vera)):
        account = Account.objects.get(bot__username=bot, telegram_id=user)
        points = "unlimited" if account.unlimited_until else f"{account.points} points"
        rows = account.ledger.values_list("reason").annotate(n=Count("id"), total=Sum("delta"))
        moves = ", ".join(f"{reason} {total:+d} ({n} row{'s' * (n > 1)})"
                          for reason, n, total in rows.order_by("reason"))  # fmt: skip
        print(f"  {name}: {points}; ledger: {moves}")


def scene_broadcast(sandbox: Sandbox) -> None:
    """Broadcasts (SPEC B, D8): a live entry goes live through the API, a photo broadcast with
    JOIN LIVE and BAN reaches the groups, an admin presses BAN, the broadcast is taken back."""
    import requests

    bot = DEMO_BOT_USERNAME
    api = f"http://127.0.0.1:{env('WEB_PORT', '8000')}/api"
    say("Olga owns the bot, which also runs broadcasts; she protects two more groups")
    olga = next(
        u["update"]["message"]["from"]["id"]
        for u in sandbox.updates(bot=bot)
        if u["update"].get("message", {}).get("from", {}).get("username") == "olga"
    )
    manage("addbot", "--token", "-", "--features", "guard,broadcasts", "--owner", str(olga),
           stdin=DEMO_BOT_TOKEN + "\n")  # fmt: skip
    groups = [
        c["params"]["chat_id"]
        for c in sandbox.calls(bot=bot, method="sendMessage")
        if "Protection is active" in c["params"].get("text", "")
    ]
    for title in ("Olga's club", "Olga's travel"):
        chat = sandbox.create_chat("supergroup", title=title, owner_id=olga)["id"]
        sandbox.add_bot(
            bot, chat, status="administrator", can_delete_messages=True, can_restrict_members=True
        )
        sandbox.message(olga, chat, "/protect @olga_news")
        groups.append(chat)
    wait_for(
        lambda: (
            len(
                [
                    c
                    for c in sandbox.calls(bot=bot, method="sendMessage")
                    if "Protection is active" in c["params"].get("text", "")
                ]
            )
            >= 3
        )
    )
    print(f"  {len(groups)} groups: {', '.join(sandbox.chat(g)['title'] for g in groups)}")

    key = manage("createapikey", "--owner", str(olga), "--name", "demo").strip()
    http = requests.Session()
    http.headers["X-API-Key"] = key
    say("Olga's stream monitor tells GMBot she is live: POST /api/live")
    live = http.post(
        f"{api}/live",
        json={
            "platform": "tiktok",
            "handle": "olga",
            "title": "Olga live from the beach",
            "url": "https://www.tiktok.com/@olga/live",
            "live_now": True,
        },
        timeout=10,
    ).json()
    print(
        f"  live entry {live['id']}: {live['platform']}/{live['handle']} live now: "
        f"{live['live_now']}"
    )

    say("A photo broadcast with JOIN LIVE and BAN: POST /api/send_messages")
    bot_id = int(DEMO_BOT_TOKEN.split(":")[0])
    created = http.post(
        f"{api}/send_messages",
        json={
            "bot": bot_id,
            "text": "Olga is live now! Come and say hi 👋",
            "photo": "https://example.com/olga-live.jpg",
            "live": live["id"],
            "ban_button": True,
        },
        timeout=10,
    ).json()

    def progress() -> dict[str, Any]:
        return dict(http.get(f"{api}/broadcasts/{created['id']}", timeout=10).json())

    shown: dict[str, Any] = created
    print(f"  broadcast {created['id']}: {created['progress']['targets']} groups, "
          f"{created['progress']['stars_estimated']} Stars (a free one)")  # fmt: skip
    while shown["status"] not in ("done", "stopped", "paused"):
        time.sleep(0.5)
        shown = progress()
        p = shown["progress"]
        print(
            f"  {shown['status']:8} sent {p['sent']}  to go {p['pending']}  "
            f"skipped {p['skipped']}  failed {p['failed']}  unknown {p['unknown']}"
        )
    photos = [c for c in sandbox.calls(bot=bot, method="sendPhoto") if c["status"] == 200]
    print(f"  caption: {photos[0]['params']['caption']!r}")
    keyboard = photos[0]["params"]["reply_markup"]["inline_keyboard"]
    print(f"  buttons: {[button['text'] for row in keyboard for button in row]}")

    travel = photos[-1]
    title = sandbox.chat(int(travel["params"]["chat_id"]))["title"]
    say(f"Olga presses BAN in «{title}»: that live is never promoted there again")
    message_id = travel["response"]["result"]["message_id"]
    pressed = sandbox.press(olga, travel["params"]["chat_id"], message_id, data=f"bb:{live['id']}")
    answer = wait_for(
        lambda: [
            c
            for c in sandbox.calls(bot=bot, method="answerCallbackQuery")
            if c["params"]["callback_query_id"] == pressed["callback_query_id"]
        ]
    )[0]
    print(f"  bot:  {answer['params']['text']}")

    say("The broadcast is deleted everywhere: DELETE /api/broadcasts/<id>")
    http.delete(f"{api}/broadcasts/{created['id']}", timeout=10)
    shown = wait_for(lambda: (s := progress())["deletion"] == "deleted" and s)
    for outcome, count in shown["progress"]["deletions"].items():
        print(f"  {outcome}: {count}")
    print("  (the message BAN removed counts as deleted: its delivery says by whom)")
    print(
        f"  photos left in the groups: "
        f"{sum(1 for g in groups for m in sandbox.messages(g) if 'photo' in m)}"
    )


def scene_periodic(sandbox: Sandbox) -> None:
    """Periodic messages (SPEC M6): one is defined in the admin (logged in over HTTP, as staff
    would), beat sends it when it falls due, the workers post it with its buttons to every
    active group and record each send; then the admin's action disables it, beat row and all."""
    import re

    import requests

    from apps.bots.models import Bot
    from apps.periodic.models import PeriodicMessage, PeriodicRun

    admin = f"http://127.0.0.1:{env('WEB_PORT', '8000')}/admin"
    username, password = env("DJANGO_SUPERUSER_USERNAME"), env("DJANGO_SUPERUSER_PASSWORD")
    if not username or not password:
        say("Periodic messages: skipped (no local admin login in .env to define one with)")
        return
    bot = Bot.objects.get(username=DEMO_BOT_USERNAME)
    bot.features = [*bot.features, "periodic"]
    bot.save(update_fields=["features"])
    groups = list(bot.groups.filter(enabled=True))

    http = requests.Session()

    def csrf(url: str) -> str:
        page = http.get(url, timeout=10).text
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, f"no form at {url}"
        return found.group(1)

    say(f"Staff log in to the admin and define a periodic message for @{bot.username}")
    http.post(f"{admin}/login/", {"csrfmiddlewaretoken": csrf(f"{admin}/login/"),
              "username": username, "password": password, "next": "/admin/"},
              timeout=10)  # fmt: skip
    add = f"{admin}/periodic/periodicmessage/add/"
    form = {
        "csrfmiddlewaretoken": csrf(add), "bot": bot.pk, "name": "Rules, every minute",
        "text": "📌 Be kind, stay on topic. New here? Read the rules.", "photo": "",
        "all_groups": "on", "kind": "crontab", "minute": "*", "hour": "*",
        "day_of_month": "*", "month_of_year": "*", "day_of_week": "*", "timezone": "UTC",
        "enabled": "on", "buttons-TOTAL_FORMS": 2, "buttons-INITIAL_FORMS": 0,
        "buttons-MIN_NUM_FORMS": 0, "buttons-MAX_NUM_FORMS": 24,
        "buttons-0-text": "Rules", "buttons-0-url": "https://example.com/rules",
        "buttons-0-row": 1, "buttons-0-position": 1,
        "buttons-1-text": "Olga on TikTok", "buttons-1-url": "https://www.tiktok.com/@olga",
        "buttons-1-row": 1, "buttons-1-position": 2,
    }  # fmt: skip
    answer = http.post(add, form, timeout=10, allow_redirects=False)
    if answer.status_code != 302:
        raise SystemExit("demo: the admin refused the periodic message (is the login right?)")
    message = PeriodicMessage.objects.select_related("task").get(bot=bot, name=form["name"])
    assert message.task is not None
    print(f"  saved; its beat row: {message.task.name!r}, {message.task.crontab}, "
          f"enabled {message.task.enabled}")  # fmt: skip
    print(f"  to all {len(groups)} active groups, with buttons Rules | Olga on TikTok")

    say("beat sends it at the top of the next minute; the normal worker posts it")
    run = wait_for(
        lambda: PeriodicRun.objects.filter(message=message, finished_at__isnull=False).first(),
        timeout=90,
    )
    for send in run.sends.select_related("group").order_by("id"):
        print(f"  {send.group.title}: {send.status} (message {send.message_id}) {send.reason}")
    posted = [
        c for c in sandbox.calls(bot=DEMO_BOT_USERNAME, method="sendMessage")
        if c["status"] == 200 and c["params"].get("text") == form["text"]
    ]  # fmt: skip
    keyboard = posted[0]["params"]["reply_markup"]["inline_keyboard"]
    print(f"  run {run.run_key}: {len(posted)} messages; buttons "
          f"{[b['text'] for row in keyboard for b in row]}")  # fmt: skip

    say("Staff disable it with the list's action: its beat row is disabled with it")
    changelist = f"{admin}/periodic/periodicmessage/"
    http.post(changelist, {"csrfmiddlewaretoken": csrf(changelist), "action": "disable",
                           "_selected_action": message.pk}, timeout=10)  # fmt: skip
    message.task.refresh_from_db()
    print(f"  beat row enabled: {message.task.enabled}")


GROWTH_BOT_TOKEN = "7000000042:gmbot-growth-demo-token-for-the-sandbox-only"  # noqa: S105
GROWTH_BOT_USERNAME = "gmbot_growth_demo_bot"
GROWTH_SETUP = """
from apps.bots.models import Bot
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.growth.models import GrowthProfile
bot = Bot.objects.get(username="{bot}")
group = Group.objects.create(bot=bot, chat_id={group}, title="Olga's growing club")
channel = Channel.objects.create(bot=bot, chat_id={channel}, title="Olga's growth news",
                                 username="olga_growth_news")
GroupChannelLink.objects.create(group=group, channel=channel)
GrowthProfile.objects.create(group=group, phase="growth", member_target={target})
print(group.pk)
"""
GROWTH_COUNT = """
from apps.growth.models import GrowthProfile
from apps.growth.services import counts
row = counts.do_refresh({pk})
profile = GrowthProfile.objects.get(group_id={pk})
last = profile.transitions.first()
print(row.count, profile.phase, last.reason if last else "")
"""


def scene_growth(sandbox: Sandbox) -> None:
    """Growth (SPEC M1, M2, M5): a burst of join requests approved at the group's pace, the
    member count past the target moves the group to monitoring, where only subscribers of the
    linked channel get in."""
    bot = GROWTH_BOT_USERNAME
    web = env("WEB_PORT", "8000")
    say("A second bot runs growth; Olga's club takes join requests and grows to 20 members")
    sandbox.create_bot(token=GROWTH_BOT_TOKEN, username=bot)
    manage("addbot", "--token", "-", "--features", "growth", stdin=GROWTH_BOT_TOKEN + "\n")
    manage("setwebhook", "--bot", bot, "--url", f"http://127.0.0.1:{web}")
    olga = sandbox.create_user("Olga G", username="olga_g")["id"]
    group = sandbox.create_chat("supergroup", title="Olga's growing club", join_by_request=True,
                                owner_id=olga)["id"]  # fmt: skip
    channel = sandbox.create_chat("channel", title="Olga's growth news",
                                  username="olga_growth_news", owner_id=olga)["id"]  # fmt: skip
    sandbox.add_bot(bot, group, status="administrator", can_invite_users=True)
    sandbox.add_bot(bot, channel, status="administrator")
    pk = int(manage("shell", stdin=GROWTH_SETUP.format(
        bot=bot, group=group, channel=channel, target=20)).strip().splitlines()[-1])  # fmt: skip
    print("  phase growth, target 20 members, join policy in monitoring: hold for an admin")

    def approvals() -> list[dict[str, Any]]:
        calls = sandbox.calls(bot=bot, method="approveChatJoinRequest")
        return [c for c in calls if c["status"] == 200]

    rate = env("GROWTH_JOIN_RATE", "3")
    say(f"A burst: 20 people ask to join at once; approvals leave at {rate}/s with jitter")
    fans = [sandbox.create_user(f"Fan {n}")["id"] for n in range(20)]
    for fan in fans:
        sandbox.join(fan, group)
    done = wait_for(lambda: len(approvals()) >= len(fans) and approvals(), timeout=60)
    times = [c["time"] for c in done]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(f"  20 approved in {times[-1] - times[0]:.1f} s: "
          f"{(len(times) - 1) / (times[-1] - times[0]):.2f}/s, gaps "
          f"{min(gaps):.2f} to {max(gaps):.2f} s; one call per request")  # fmt: skip

    say("The member count is refreshed (getChatMemberCount, kept as history)")
    shown = manage("shell", stdin=GROWTH_COUNT.format(pk=pk)).strip().splitlines()[-1]
    count, phase, why = shown.split(maxsplit=2)
    print(f"  {count} members → phase {phase} (by rule: {why.strip()})")

    say("Now monitored: Nora (not subscribed) and Sid (subscribed to the channel) ask to join")
    nora = sandbox.create_user("Nora")["id"]
    sid = sandbox.create_user("Sid")["id"]
    sandbox.set_member(channel, sid, "member")
    sandbox.join(nora, group)
    sandbox.join(sid, group)
    wait_for(lambda: sandbox.member(group, sid)["status"] == "member")
    time.sleep(1)
    print(
        f"  Sid: {sandbox.member(group, sid)['status']}; Nora: still waiting "
        f"({len(sandbox.join_requests(group))} request pending in Telegram, held in GMBot)"
    )

    say("Olga asks the bot: /growth")
    sandbox.message(olga, group, "/growth")
    answer = wait_for(
        lambda: [
            c
            for c in sandbox.calls(bot=bot, method="sendMessage", chat_id=group)
            if c["status"] == 200
        ]
    )
    for line in answer[-1]["params"]["text"].splitlines():
        print(f"  bot:  {line}")


def scene_kick(sandbox: Sandbox) -> None:
    """The kicker (SPEC M3, M4): member activity recorded as the bot sees it, and a dry-run kick
    listing the members who have been silent longer than the group's rule. Uses the growth
    bot of scene_growth."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.bots.models import Bot, TelegramUser
    from apps.chats.models import Group
    from apps.growth.models import GrowthProfile
    from apps.members.models import KickRun, MemberActivity
    from apps.members.services import next_run_at
    from tasks.low import start_kick_runs

    bot = GROWTH_BOT_USERNAME
    irma = sandbox.create_user("Irma", username="irma")["id"]
    chat = sandbox.create_chat("supergroup", title="Irma's lounge", owner_id=irma)["id"]
    sandbox.add_bot(bot, chat, status="administrator", can_restrict_members=True)
    row = Bot.objects.get(username=bot)
    group = Group.objects.create(bot=row, chat_id=chat, title="Irma's lounge")
    GrowthProfile.objects.create(group=group, kick_after_days=30, kick_dry_run=True)
    say("Irma's lounge kicks members silent for 30 days — in dry run: report whom, kick nobody")

    names = ["Mia", "Leo", "Teo", "Zoe", "Max"]
    people = {name: sandbox.create_user(name)["id"] for name in names}
    for user in people.values():
        sandbox.join(user, chat)
    sandbox.message(people["Mia"], chat, "Morning all!")
    sandbox.message(people["Leo"], chat, "Hi Mia")
    sandbox.message(people["Mia"], chat, "Anyone up for the meetup?")
    rows = MemberActivity.objects.filter(group=group)
    # Beat flushes the activity buffered in Redis every few seconds.
    wait_for(lambda: rows.filter(user_id=people["Leo"], message_count=1).exists()
             and rows.count() == len(names), timeout=30)  # fmt: skip
    for name in names:
        activity = rows.get(user_id=people[name])
        print(f"  {name}: joined, {activity.message_count} message(s)")

    say("Six weeks pass for Teo, Zoe and Max, who never write (their rows are dated back)")
    long_ago = timezone.now() - timedelta(days=45)
    silent = [people[name] for name in ("Teo", "Zoe", "Max")]
    rows.filter(user_id__in=silent).update(joined_at=long_ago, first_seen_at=long_ago,
                                           active_at=long_ago)  # fmt: skip
    MemberActivity.objects.create(group=group, user_id=irma, joined_at=long_ago,
                                  first_seen_at=long_ago, active_at=long_ago,
                                  updated_at=long_ago)  # fmt: skip
    print("  Irma, the owner, has been silent as long")

    say("The hourly run (beat starts it at :23; started by hand here)")
    start_kick_runs.delay()
    run = wait_for(lambda: KickRun.objects.filter(group=group, status="done").first(), 30)
    named = dict(TelegramUser.objects.filter(telegram_id__in=run.listed)
                 .values_list("telegram_id", "first_name"))  # fmt: skip
    print(f"  dry run: {run.candidates} candidates; would remove: "
          f"{', '.join(named.get(u, str(u)) for u in run.listed)}")  # fmt: skip
    print(f"  skipped: {run.skipped}; removed: {run.removed}; "
          f"ban calls: {len(sandbox.calls(bot=bot, method='banChatMember'))}")  # fmt: skip
    print(
        f"  everyone is still in the group: "
        f"{all(sandbox.member(chat, u)['status'] == 'member' for u in people.values())}"
    )
    print(f"  next run: {next_run_at():%H:%M} UTC; the run is on the group's admin page")


SCENES: list[Callable[[Sandbox], None]] = [
    scene_add_bot,
    scene_webhook,
    scene_guard,
    scene_broadcast,
    scene_accounts,
    scene_periodic,
    scene_growth,
    scene_kick,
]


def forget_previous_demo() -> None:
    """The sandbox's world is new on every run (its ids never repeat), so the groups and channels
    GMBot stored for the last run's demo bot are of a world that is gone: drop that bot and,
    with it, them, so a second `make demo` shows one group, not two."""
    import django

    django.setup()
    from apps.bots.models import Bot

    Bot.objects.filter(username__in=[DEMO_BOT_USERNAME, GROWTH_BOT_USERNAME]).delete()


def main() -> int:
    sandbox = Sandbox(f"http://127.0.0.1:{env('SANDBOX_PORT', '8081')}")
    sandbox.reset()
    forget_previous_demo()
    for scene in SCENES:
        scene(sandbox)
    say("Where to look")
    return 0


if __name__ == "__main__":
    sys.exit(main())
