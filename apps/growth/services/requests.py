"""Join requests (SPEC M2): stored once, decided by the group's phase, re-decided by admins and
by the requester's "I've joined". Executing a decision is services/executing.py's.

Decisions when a request arrives:
- `growth`: approve;
- `monitoring`: approve a subscriber of the group's linked channels (the guard's membership
  check and its cache); the others are held for an admin, or — the group's `monitoring_policy` —
  messaged privately through the request's `user_chat_id` (Telegram allows it for 5 minutes)
  with the channels' Join buttons and "I've joined", which approves them once the check passes;
- `paused`: hold.
A group with no growth profile is not managed by growth: its requests are left to Telegram's
admins and nothing is stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from telebot.types import CallbackQuery, ChatJoinRequest

from apps.bots.context import BotContext
from apps.chats.models import Channel, Group
from apps.growth import keyboards, texts
from apps.growth.models import GrowthProfile, JoinRequest
from apps.growth.services import executing
from apps.guard.services.protection import channel_names, check_missing_channels
from apps.telegram.client import answer_callback
from apps.telegram.errors import BadRequest, Unreachable

logger = logging.getLogger(__name__)

Phase = GrowthProfile.Phase
Status = JoinRequest.Status
RULE = "rule"


def channels_of(group: Group) -> list[Channel]:
    return list(Channel.objects.filter(group_links__group=group).order_by("pk"))


def managed_group(bot: BotContext, chat_id: int) -> tuple[Group, GrowthProfile] | None:
    group = Group.objects.filter(bot_id=bot.id, chat_id=chat_id, enabled=True).first()
    if group is None:
        return None
    profile = GrowthProfile.objects.filter(group=group).first()
    return (group, profile) if profile is not None else None


def do_receive(bot: BotContext, request: ChatJoinRequest) -> JoinRequest | None:
    """Store the request once and decide it. A redelivered update, or a request for a user whose
    request is still open, finds the row and does nothing. A user whose earlier request was
    finished (approved, then removed by the kicker, say) and who asks again later (a newer
    date) has the same row decided afresh: the row is unique per group and user.
    Locks the row (select_for_update) while it is decided."""
    found = managed_group(bot, request.chat.id)
    if found is None:
        return None
    group, profile = found
    user_id = request.from_user.id
    requested_at = datetime.fromtimestamp(request.date, tz=UTC)
    fields = {
        "user_chat_id": request.user_chat_id,
        "requested_at": requested_at,
        "phase_at_arrival": profile.phase,
        "status": Status.HELD,
        "reason": "deciding",
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = JoinRequest.objects.create(group=group, user_id=user_id, **fields)
        except IntegrityError:
            row = JoinRequest.objects.select_for_update().get(group=group, user_id=user_id)
            if row.status not in JoinRequest.FINISHED or row.requested_at >= requested_at:
                logger.info("growth: join request %s seen again, nothing to do", row.pk)
                return None
            for name, value in fields.items():
                setattr(row, name, value)
            row.decided_at, row.decided_by, row.executed_at = None, "", None
            row.description, row.attempts = "", 0
            row.save()
        decide(bot, group, profile, row)
    return row


def decide(bot: BotContext, group: Group, profile: GrowthProfile, row: JoinRequest) -> None:
    """The arrival decision (the module docstring), written to the row."""
    if profile.phase == Phase.GROWTH:
        _queue(row, Status.APPROVING, by=RULE)
        return
    if profile.phase == Phase.PAUSED:
        _hold(row, "paused")
        return
    channels = channels_of(group)
    if not channels:
        _hold(row, "no_channel")
        return
    if not check_missing_channels(bot, channels, row.user_id):
        _queue(row, Status.APPROVING, by=RULE)
        return
    messaging = profile.monitoring_policy == GrowthProfile.MonitoringPolicy.MESSAGE
    if messaging and _message_requester(bot, group, channels, row):
        return
    _hold(row, "not_subscribed")


def _queue(row: JoinRequest, status: str, *, by: str) -> None:
    now = timezone.now()
    row.status, row.decided_at, row.decided_by, row.reason = status, now, by[:64], ""
    row.save(update_fields=["status", "decided_at", "decided_by", "reason", "updated_at"])
    executing.schedule(row.group_id)


def _hold(row: JoinRequest, reason: str) -> None:
    row.status, row.reason = Status.HELD, reason
    row.save(update_fields=["status", "reason", "updated_at"])


def _message_requester(
    bot: BotContext, group: Group, channels: list[Channel], row: JoinRequest
) -> bool:
    """Write to the requester with the Join buttons and "I've joined"; False when Telegram
    refuses (the 5 minutes passed, the user blocked the bot): the request is then held."""
    text = texts.GATE.format(group=group.title or "the group", channels=channel_names(channels))
    try:
        bot.telebot.send_message(
            row.user_chat_id, text, reply_markup=keyboards.gate_keyboard(channels, row.pk)
        )
    except (Unreachable, BadRequest) as exc:
        logger.info("growth: requester %s not messaged: %s", row.user_id, exc.reason)
        return False
    row.status, row.reason = Status.MESSAGED, ""
    row.save(update_fields=["status", "reason", "updated_at"])
    return True


def do_joined_pressed(bot: BotContext, query: CallbackQuery) -> None:
    """ "I've joined": only the requester may press it; a fresh check (no negative cache);
    subscribed → approved (through the queue), otherwise an alert naming what is missing.
    Locks the request row while it is decided."""
    request_id = keyboards.joined_target(query.data)
    if request_id is None:
        return
    row = JoinRequest.objects.filter(pk=request_id, group__bot_id=bot.id).select_related("group")
    found = row.first()
    if found is None or found.user_id != query.from_user.id:
        answer_callback(bot.telebot, query.id, texts.JOINED_NOT_YOURS, alert=True)
        return
    if found.status not in JoinRequest.WAITING:
        answer_callback(bot.telebot, query.id, texts.JOINED_ALREADY, alert=True)
        return
    channels = channels_of(found.group)
    missing = check_missing_channels(bot, channels, found.user_id, trust_negative=False)
    if missing:
        answer_callback(
            bot.telebot,
            query.id,
            texts.JOINED_MISSING.format(channels=channel_names(missing)),
            alert=True,
        )
        return
    decided = do_decide(
        JoinRequest.objects.filter(pk=found.pk), Status.APPROVING, by=str(found.user_id)
    )
    answer_callback(
        bot.telebot, query.id, texts.JOINED_DONE if decided else texts.JOINED_ALREADY, alert=True
    )


# What an admin may decide again: the waiting, and the failed (to try once more).
DECIDABLE = (*JoinRequest.WAITING, Status.FAILED)


def do_decide(
    rows: QuerySet[JoinRequest],
    status: str,
    *,
    by: str,
    from_statuses: tuple[str, ...] = JoinRequest.WAITING,
) -> int:
    """Decide requests among `rows` still in `from_statuses` as `status` (approving or
    declining), by an admin or the requester, and queue their execution at the group's pace.
    Returns how many were decided; one decided or finished meanwhile is left as it is (a
    conditional update). Locks the rows for the update only."""
    if status not in JoinRequest.QUEUED:
        raise ValueError(f"not a decision: {status}")
    open_rows = rows.filter(status__in=from_statuses)
    now = timezone.now()
    with transaction.atomic():
        groups = set(open_rows.values_list("group_id", flat=True))
        decided = open_rows.update(
            status=status, decided_at=now, decided_by=by[:64], reason="", description="",
            attempts=0, claim="", claimed_at=None, updated_at=now,
        )  # fmt: skip
        for group_id in groups:
            executing.schedule(group_id)
    return decided
