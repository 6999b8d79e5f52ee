"""Keep the cached protections true: any change to a group, its protection, its channel links or
a channel drops the cached protection of every group it concerns, and with it the bot's cached
groups of each channel (cache.forget_protection). The admin, the setup commands and the services
all save through the ORM, so they all pass here.

Bulk `QuerySet.update()` sends no signal; the services that use one drop the entry themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.chats.models import Channel, Group, GroupChannelLink
from apps.guard import cache
from apps.guard.models import GroupProtection


@receiver([post_save, post_delete], sender=Group, dispatch_uid="guard-protection-group")
def group_changed(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    cache.forget_protection(instance.bot_id, instance.chat_id)


@receiver([post_save, post_delete], sender=GroupProtection, dispatch_uid="guard-protection-state")
def protection_changed(
    sender: type[GroupProtection], instance: GroupProtection, **kwargs: Any
) -> None:
    _forget_group(instance.pk)


@receiver([post_save, post_delete], sender=GroupChannelLink, dispatch_uid="guard-protection-link")
def link_changed(sender: type[GroupChannelLink], instance: GroupChannelLink, **kwargs: Any) -> None:
    _forget_group(instance.group_id)


def _forget_group(group_id: int) -> None:
    group = Group.objects.filter(pk=group_id).values_list("bot_id", "chat_id").first()
    if group is not None:
        cache.forget_protection(*group)


@receiver([post_save, post_delete], sender=Channel, dispatch_uid="guard-protection-channel")
def channel_changed(sender: type[Channel], instance: Channel, **kwargs: Any) -> None:
    linked = Group.objects.filter(channel_links__channel_id=instance.pk)
    for bot_id, chat_id in linked.values_list("bot_id", "chat_id"):
        cache.forget_protection(bot_id, chat_id)
