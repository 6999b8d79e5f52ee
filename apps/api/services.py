"""What the API's endpoints do, apart from HTTP: each takes the caller (a KeyHolder) and starts
from the rows tenancy lets it see."""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Prefetch,
    Q,
    QuerySet,
)

from apps.api import tenancy
from apps.api.authentication import KeyHolder
from apps.bots.models import Bot
from apps.chats.models import Group, GroupChannelLink
from apps.guard.services.protection import enforced_groups


def protected_condition() -> Q:
    """The guard's own definition of a protected group (apps.guard), for the field and for the
    filter."""
    return enforced_groups()


def groups_for(
    holder: KeyHolder,
    *,
    bot: Bot | None = None,
    enabled: bool | None = None,
    protected: bool | None = None,
) -> QuerySet[Group]:
    """The caller's groups, filtered, with everything GroupSerializer shows: two queries a
    page, whatever its size."""
    protected_now = protected_condition()
    groups = tenancy.visible(Group, holder).select_related("bot", "owner")
    groups = groups.annotate(
        protected=ExpressionWrapper(protected_now, output_field=BooleanField())
    )
    groups = groups.prefetch_related(
        Prefetch(
            "channel_links",
            queryset=GroupChannelLink.objects.select_related("channel").order_by("pk"),
        )
    )
    if bot is not None:
        groups = groups.filter(bot=bot)
    if enabled is not None:
        groups = groups.filter(enabled=enabled)
    if protected is not None:
        groups = groups.filter(protected_now if protected else ~protected_now)
    return groups
