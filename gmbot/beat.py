"""The beat scheduler: django-celery-beat's, sending only while it holds the leader lease.

A second `celery beat` (a rolling deploy, a second replica) would send every periodic job again.
Each beat here tries, on every tick, to take or renew one Redis key with a lease; only the one
holding it sends the schedule. The others tick idle and take over within the lease once the
leader stops renewing (it died, or lost Redis). A leader that stops cleanly hands the lease back.

The windows left: a leader stalled longer than the lease in the middle of a tick may send what
the new leader sends too; and with Redis down no beat sends (with Redis as the broker nothing
could be sent anyway).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

import redis
from django_celery_beat.models import PeriodicTasks
from django_celery_beat.schedulers import DatabaseScheduler

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

LEADER_KEY = "gmbot:beat:leader"

# Renew the lease if it is still ours (compare, then extend), in one step.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaderScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from celeryconfig import BEAT_LEADER_LEASE_SECONDS

        self.lease = BEAT_LEADER_LEASE_SECONDS
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Send what is due while leading; otherwise look again well within the lease."""
        if not self._lead():
            return self.lease / 3
        # Never sleep past the renewal the lease needs.
        return min(float(super().tick(*args, **kwargs)), self.lease / 3)

    def close(self) -> None:
        super().close()
        if self.leading:
            try:
                get_redis().eval(_RELEASE, 1, LEADER_KEY, self.me)
            except redis.RedisError:
                logger.warning("beat: could not hand back the leader lease; it expires by itself")

    def _lead(self) -> bool:
        lease_ms = int(self.lease * 1000)
        try:
            if self.leading:
                held = bool(get_redis().eval(_RENEW, 1, LEADER_KEY, self.me, lease_ms))
            else:
                held = bool(get_redis().set(LEADER_KEY, self.me, nx=True, px=lease_ms))
        except redis.RedisError as exc:
            held = False
            if self.leading:
                logger.warning("beat: Redis unavailable, not sending the schedule: %s", exc)
        if held and not self.leading:
            logger.info("beat: %s sends the schedule (leader lease %ss)", self.me, self.lease)
            # The schedule read at start may be old: the last leader ran entries since. Marking
            # it changed makes this beat read it afresh, run times included, before it sends.
            PeriodicTasks.update_changed()
        elif self.leading and not held:
            logger.warning("beat: %s lost the leader lease; another beat sends", self.me)
        self.leading = held
        return held
