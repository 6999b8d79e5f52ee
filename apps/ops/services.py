"""Operations: health of the parts the product depends on, worker identity, clean-ups."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from gmbot.redis import get_redis

STARTED_AT = time.monotonic()


def worker_identity(request: Any) -> dict[str, str]:
    """Which worker, from which queue, ran the current task."""
    delivery = request.delivery_info or {}
    return {"hostname": request.hostname or "", "queue": delivery.get("routing_key") or ""}


def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def check_redis() -> bool:
    try:
        return bool(get_redis().ping())
    except Exception:
        return False


def check_broker() -> bool:
    from gmbot.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return True
    except Exception:
        return False


def health() -> dict[str, Any]:
    checks = {"database": check_database(), "redis": check_redis(), "broker": check_broker()}
    return {
        "status": "ok" if all(checks.values()) else "degraded",
        "checks": checks,
        "uptime_seconds": round(time.monotonic() - STARTED_AT, 1),
    }
