from __future__ import annotations

from django.db import models


class SeenUpdate(models.Model):
    """Deduplication of webhook deliveries when Redis cannot do it (SPEC W2).

    Written only while Redis is unavailable; beat purges rows older than a day.
    """

    bot_id = models.BigIntegerField()
    update_id = models.BigIntegerField()
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot_id", "update_id"], name="seen_update_unique"),
        ]

    def __str__(self) -> str:
        return f"bot {self.bot_id} update {self.update_id}"
