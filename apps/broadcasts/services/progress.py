"""What a broadcast has done so far (SPEC B6, B8) and its deliveries as CSV (SPEC B3)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count

from apps.broadcasts.models import STARS_PER_PAID_MESSAGE, Broadcast, Delivery
from apps.broadcasts.services import planning

S = Delivery.Status


def progress(broadcast: Broadcast) -> dict[str, Any]:
    """Counts by status, the Stars a paid broadcast will cost (estimated from its targets before
    it is planned) and has spent, and the deletions' outcomes. Two queries once planned."""
    counts = dict(
        broadcast.deliveries.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    planned = bool(counts)
    if planned:
        sendable = sum(counts.get(status, 0) for status in (S.PENDING, S.SENDING, S.SENT, S.FAILED,
                                                              S.UNKNOWN))  # fmt: skip
        skipped = counts.get(S.SKIPPED, 0)
    else:
        estimate = planning.estimate(broadcast)
        sendable = estimate.pop("send", 0)
        skipped = sum(estimate.values())
    deletions = dict(
        broadcast.deliveries.exclude(deletion="")
        .values_list("deletion")
        .annotate(n=Count("id"))
        .values_list("deletion", "n")
    )
    price = STARS_PER_PAID_MESSAGE if broadcast.paid else Decimal(0)
    return {
        "status": broadcast.status,
        "status_reason": broadcast.status_reason,
        "targets": sendable + skipped,
        "pending": counts.get(S.PENDING, 0) + counts.get(S.SENDING, 0) if planned else sendable,
        "sent": counts.get(S.SENT, 0),
        "skipped": skipped,
        "failed": counts.get(S.FAILED, 0),
        "unknown": counts.get(S.UNKNOWN, 0),
        "stars_estimated": price * sendable,
        # Telegram charges for what it posted; an unknown outcome may have been charged too.
        "stars_spent": price * counts.get(S.SENT, 0),
        "deletion": broadcast.deletion,
        "deletions": deletions,
    }


CSV_COLUMNS = [
    "broadcast", "debug_code", "group", "group_title", "chat_id", "status", "reason",
    "description", "message_id", "claimed_at", "finished_at", "deletion", "deletion_description",
    "deleted_at",
]  # fmt: skip
# A cell a spreadsheet would read as a formula starts with one of these (OWASP CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text starting like a formula gets a leading apostrophe; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(broadcasts: Any) -> Iterator[list[Any]]:
    """The header, then one row per delivery of the broadcasts, read in chunks (iterator)."""
    yield CSV_COLUMNS
    deliveries = (
        Delivery.objects.filter(broadcast__in=broadcasts)
        .select_related("group")
        .order_by("broadcast_id", "id")
    )
    for row in deliveries.iterator(chunk_size=2000):
        values = [
            row.broadcast_id, row.debug_code, row.group_id, row.group.title, row.chat_id,
            row.status, row.reason, row.description, row.message_id,
            row.claimed_at.isoformat() if row.claimed_at else None,
            row.finished_at.isoformat() if row.finished_at else None,
            row.deletion, row.deletion_description,
            row.deleted_at.isoformat() if row.deleted_at else None,
        ]  # fmt: skip
        yield [safe_cell(value) for value in values]
