"""The names of the people the bots see, kept for the admin (apps/bots/models.TelegramUser).

Called for every update (the core feature's observer, apps/chats/features.py), so it must cost
nothing when nothing changed: each process remembers the names it last wrote, and writes one
upsert only for a person it has not seen yet, or whose name or username changed since.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from telebot.types import User

from apps.bots.models import TelegramUser
from gmbot.upsert import upsert

# The columns written, in the order of each row's values.
NAME_FIELDS = ("telegram_id", "first_name", "last_name", "username", "updated_at")

_CACHE_LIMIT = 50_000
_written: dict[int, tuple[str, str, str]] = {}


def note(users: Iterable[User | None]) -> int:
    """Record the names of `users` (bots left out); returns how many rows were written."""
    changed = {}
    for user in users:
        if user is None or user.is_bot:
            continue
        name = (
            (user.first_name or "")[:128],
            (user.last_name or "")[:128],
            (user.username or "")[:64],
        )
        if _written.get(user.id) != name:
            changed[user.id] = name
    if not changed:
        return 0
    now = timezone.now()
    upsert(
        TelegramUser,
        [(pk, first, last, handle, now) for pk, (first, last, handle) in sorted(changed.items())],
        fields=NAME_FIELDS,
        unique=("telegram_id",),
        update=NAME_FIELDS[1:],
    )
    if len(_written) + len(changed) > _CACHE_LIMIT:
        _written.clear()
    _written.update(changed)
    return len(changed)


def forget() -> None:
    """Write every name again on next sight (the tests' fresh database)."""
    _written.clear()
