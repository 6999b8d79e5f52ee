"""Creating and starting broadcasts, from the admin or the API (SPEC B1). `check_broadcast`
refuses what cannot go out, naming the field; `do_create_broadcast` stores it (queued, or a
draft for the admin to start); `do_start` queues a draft or resumes a paused broadcast."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.bots.models import Bot
from apps.broadcasts.models import Broadcast, BroadcastBot
from apps.broadcasts.services import planning
from apps.chats.models import Group
from apps.live.models import LiveEntry

FEATURE = "broadcasts"
CAPTION_MAX = 1024  # Telegram's limit for a photo's caption; the text of either kind keeps to it


def check_broadcast(
    bot: Bot,
    *,
    text: str,
    photo: str = "",
    live: LiveEntry | None = None,
    join_url: str = "",
    ban_button: bool = False,
    groups: Iterable[Group] | None = None,
    paid: bool = False,
) -> None:
    """Raise ValidationError naming each field that is wrong."""
    errors: dict[str, str] = {}
    if FEATURE not in (bot.features or []):
        errors["bot"] = (
            f"@{bot.username} does not run the broadcasts feature: turn it on first, or its "
            "BAN buttons would go unanswered."
        )
    if not text.strip():
        errors["text"] = "The message needs some text."
    elif len(text) > CAPTION_MAX:
        errors["text"] = f"At most {CAPTION_MAX} characters."
    if live is not None and bot.owner_id is not None and live.owner_id != bot.owner_id:
        errors["live"] = "The live entry belongs to another owner than the bot."
    if ban_button and live is None:
        errors["ban_button"] = "The BAN button bans a live entry: name one in `live`."
    if not join_url and live is None:
        errors["join_url"] = "JOIN LIVE needs a URL: give `join_url`, or a live entry in `live`."
    for group in groups or ():
        if group.bot_id != bot.pk:
            errors["groups"] = f"Group {group.pk} is not one of @{bot.username}'s."
            break
    if paid and not BroadcastBot.objects.filter(bot=bot, allow_paid_broadcast=True).exists():
        errors["paid"] = f"@{bot.username} does not allow paid broadcasting (see the admin)."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_broadcast(
    bot: Bot,
    *,
    text: str,
    photo: str = "",
    live: LiveEntry | None = None,
    join_url: str = "",
    ban_button: bool = False,
    groups: Iterable[Group] | None = None,
    paid: bool = False,
    start: bool = True,
    via: str = "api",
) -> Broadcast:
    """Store a checked broadcast; with `start`, queue its planning after the commit."""
    chosen = list(groups or ())
    broadcast = Broadcast.objects.create(
        bot=bot,
        text=text,
        photo=photo,
        live=live,
        join_url=join_url,
        ban_button=ban_button,
        all_groups=not chosen,
        paid=paid,
        created_via=via,
    )
    if chosen:
        broadcast.chosen_groups.set(chosen)
    if start:
        do_start(broadcast)
        broadcast.refresh_from_db()
    return broadcast


def do_start(broadcast: Broadcast) -> bool:
    """Queue a draft (it is planned on `normal`) or resume a paused broadcast. False when it is
    neither. Claims the row by conditional update, so two presses start it once."""
    from gmbot.celery import app

    rows = Broadcast.objects.filter(pk=broadcast.pk, deletion="")
    if rows.filter(status=Broadcast.Status.DRAFT).update(status=Broadcast.Status.QUEUED):
        transaction.on_commit(lambda: app.send_task("tasks.normal.plan_broadcast", [broadcast.pk]))
        return True
    resumed = rows.filter(status=Broadcast.Status.PAUSED).update(
        status=Broadcast.Status.SENDING, status_reason="", started_at=timezone.now()
    )
    if resumed:
        transaction.on_commit(lambda: planning.start_senders(broadcast))
    return bool(resumed)
