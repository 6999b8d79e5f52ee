"""Live entries (SPEC D8): someone streaming somewhere, what broadcasts promote and the
private-chat bot lists. An app of its own because two features read them (broadcasts, SPEC B,
and the points bot, SPEC D) and neither should depend on the other for them."""

from __future__ import annotations

from django.db import models

from apps.bots.models import Owner


class LiveEntry(models.Model):
    """One streamer on one platform, of one owner: created or updated by platform + handle
    (`POST /api/live`, the admin); ending a live is an update (`is_live` off)."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="live_entries")
    platform = models.CharField(max_length=32, help_text="where the live runs: tiktok, twitch, …")
    handle = models.CharField(max_length=64, help_text="the streamer's name on that platform")
    title = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=500, help_text="where to watch: the JOIN LIVE button")
    live_since = models.DateTimeField(null=True, blank=True)
    is_live = models.BooleanField("live now", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_live", "-live_since", "platform", "handle"]
        verbose_name = "live entry"
        verbose_name_plural = "live entries"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "platform", "handle"], name="live_unique_owner_platform_handle"
            ),
        ]
        indexes = [models.Index(fields=["owner", "is_live"], name="live_owner_live_idx")]

    def __str__(self) -> str:
        return f"{self.platform}/{self.handle}"
