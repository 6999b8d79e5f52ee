"""A periodic message's beat row goes with it: deleted in the deletion's own transaction (the
collector sends post_delete inside it, for a queryset's delete too)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_celery_beat.models import PeriodicTask

from apps.periodic.models import PeriodicMessage


@receiver(post_delete, sender=PeriodicMessage)
def remove_beat_row(sender: type[PeriodicMessage], instance: PeriodicMessage, **_: Any) -> None:
    if instance.task_id is not None:
        PeriodicTask.objects.filter(pk=instance.task_id).delete()
