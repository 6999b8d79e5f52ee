"""What the platform's staff do to a group's protection from the admin: pause it, and reactivate
it after the checks /reactivate runs (SPEC G10)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from apps.bots.context import context_for
from apps.chats.models import Group
from apps.guard import cache
from apps.guard.models import GroupProtection
from apps.guard.services import setup
from apps.telegram.errors import TelegramError

STAFF_PAUSE = "paused by staff ({who}) in the admin"


def do_pause(groups: Iterable[Group], who: str) -> int:
    """Pause the protection of `groups` that is on and not paused; returns how many. One
    conditional update; the cached protections are dropped (an update sends no signal)."""
    groups = list(groups)
    now = timezone.now()
    paused = GroupProtection.objects.filter(
        group__in=groups, enabled=True, paused_at__isnull=True
    ).update(paused_at=now, pause_reason=STAFF_PAUSE.format(who=who)[:255], updated_at=now)
    for group in groups:
        cache.forget_protection(group.bot_id, group.chat_id)
    return paused


def do_reactivate(group: Group) -> tuple[bool, str]:
    """Run /reactivate's checks for a paused group through its bot and lift the pause when they
    pass. Returns whether it did, and the checks' report (what is missing, if anything)."""
    state = GroupProtection.objects.filter(pk=group.pk, paused_at__isnull=False).first()
    if state is None:
        return False, "not paused"
    bot = context_for(group.bot_id)
    if bot is None:
        return False, "its bot is inactive"
    refs: list[str | int] = [link.channel.chat_id for link in group.channel_links.all()]
    try:
        report = setup.check_setup(bot, group.chat_id, refs)
    except TelegramError as exc:
        return False, f"Telegram: {exc.description}"
    if not report.ok:
        return False, "; ".join(report.lines)
    setup.do_reactivate(bot, group.chat_id)
    return True, "checks passed"
