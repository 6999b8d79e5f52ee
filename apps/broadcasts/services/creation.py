"""Creating and starting broadcasts, from the admin or the API (SPEC B1). A `BroadcastSpec` is
what either gives; `check_broadcast` refuses what cannot go out, naming the field;
`do_create_broadcast` stores it (queued, or a draft for the admin to start); `do_start` queues a
draft or resumes a paused broadcast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class BroadcastSpec:
    """What a broadcast says and where it goes (the model's fields of the same names); no
    `groups`: every enabled group of the bot."""

    text: str
    photo: str = ""
    live: LiveEntry | None = None
    join_url: str = ""
    ban_button: bool = False
    groups: tuple[Group, ...] = ()
    paid: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> BroadcastSpec:
        """From validated form or request data; keys it does not know are left out."""
        given = {name: data[name] for name in cls.__dataclass_fields__ if data.get(name)}
        given["groups"] = tuple(given.get("groups") or ())
        given.setdefault("text", "")  # refused by check_broadcast, with the field named
        return cls(**given)


def check_broadcast(bot: Bot, spec: BroadcastSpec) -> None:
    """Raise ValidationError naming each field that is wrong."""
    text, live = spec.text, spec.live
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
    if spec.ban_button and live is None:
        errors["ban_button"] = "The BAN button bans a live entry: name one in `live`."
    if not spec.join_url and live is None:
        errors["join_url"] = "JOIN LIVE needs a URL: give `join_url`, or a live entry in `live`."
    for group in spec.groups:
        if group.bot_id != bot.pk:
            errors["groups"] = f"Group {group.pk} is not one of @{bot.username}'s."
            break
    if spec.paid and not BroadcastBot.objects.filter(bot=bot, allow_paid_broadcast=True).exists():
        errors["paid"] = f"@{bot.username} does not allow paid broadcasting (see the admin)."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_broadcast(
    bot: Bot, spec: BroadcastSpec, *, start: bool = True, via: str = "api"
) -> Broadcast:
    """Store a checked broadcast; with `start`, queue its planning after the commit."""
    broadcast = Broadcast.objects.create(
        bot=bot,
        text=spec.text,
        photo=spec.photo,
        live=spec.live,
        join_url=spec.join_url,
        ban_button=spec.ban_button,
        all_groups=not spec.groups,
        paid=spec.paid,
        created_via=via,
    )
    if spec.groups:
        broadcast.chosen_groups.set(spec.groups)
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
