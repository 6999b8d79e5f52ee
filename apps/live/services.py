"""Creating and updating live entries, for the API and the admin alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from apps.bots.models import Owner
from apps.live.models import LiveEntry


@transaction.atomic
def do_upsert_live(
    owner: Owner,
    platform: str,
    handle: str,
    *,
    title: str | None = None,
    url: str | None = None,
    live_since: datetime | None = None,
    is_live: bool | None = None,
) -> tuple[LiveEntry, bool]:
    """Create the owner's entry for platform + handle, or update the fields given (None leaves
    a field as it is). Returns (entry, created). Locks the entry's row; concurrent creations
    of one entry meet at the unique constraint, and the loser updates what the winner made."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("title", title),
            ("url", url),
            ("live_since", live_since),
            ("is_live", is_live),
        )
        if value is not None
    }
    return LiveEntry.objects.update_or_create(
        owner=owner, platform=platform.lower(), handle=handle, defaults=changes
    )
