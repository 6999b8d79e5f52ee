"""The API's endpoints: thin, each parses, lets the framework authorize, and calls a service.

Every endpoint is a ScopedAPIView. Before the handler runs, DRF has resolved the key
(authentication), required one (permissions) and counted it (throttling); ScopedAPIView then
validates the query string, refusing unknown and repeated parameters, and starts every query
from the rows the key may see.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import ErrorDetail, NotAuthenticated, ValidationError
from rest_framework.request import Request

from apps.api import services, tenancy
from apps.api.authentication import KeyHolder
from apps.api.errors import json_error
from apps.api.pagination import CursorPage
from apps.api.serializers import GroupQuery, GroupSerializer, StrictSerializer
from apps.chats.models import Group


class ScopedAPIView(generics.GenericAPIView):
    """The base of every endpoint. `model` is what it serves (it must be in
    tenancy.OWNER_PATHS); `query_serializer` declares its query parameters (none by default)
    and documents them in the schema."""

    model: ClassVar[type[models.Model]]
    query_serializer: ClassVar[type[StrictSerializer]] = StrictSerializer
    query: dict[str, Any]
    # No OPTIONS: DRF would describe serializers there, outside the schema (METADATA_CLASS is
    # off), and Allow should not name a method that only answers 405.
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # DRF checks the method only after this; a method the endpoint lacks is a 405 whatever
        # its query string says.
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            self.http_method_not_allowed(request, *args, **kwargs)
        self.query = self.check_query(request)

    def check_query(self, request: Request) -> dict[str, Any]:
        params = request.query_params
        serializer = self.query_serializer(
            data={name: params[name] for name in params}, context=self.get_serializer_context()
        )
        repeated = {
            name: [ErrorDetail("Given more than once; give it once.", code="repeated")]
            for name, values in params.lists()
            if len(values) > 1
        }
        if not serializer.is_valid() or repeated:
            raise ValidationError({**serializer.errors, **repeated})
        return dict(serializer.validated_data)

    @property
    def holder(self) -> KeyHolder:
        """The caller; IsAuthenticated has let only keys this far."""
        user = self.request.user
        if not isinstance(user, KeyHolder):
            raise NotAuthenticated()
        return user

    def get_queryset(self) -> models.QuerySet[Any]:
        return tenancy.visible(self.model, self.holder)


@extend_schema(summary="List the groups of this key's owner")
class GroupList(ScopedAPIView, generics.ListAPIView):
    """Groups the key's owner owns or whose bot it owns (every group for a staff key), by
    ascending id, a page at a time."""

    model = Group
    serializer_class = GroupSerializer
    query_serializer = GroupQuery
    pagination_class = CursorPage

    def get_queryset(self) -> models.QuerySet[Group]:
        return services.groups_for(
            self.holder,
            bot=self.query.get("bot"),
            enabled=self.query.get("enabled"),
            protected=self.query.get("protected"),
        )


@csrf_exempt
def unknown_endpoint(request: HttpRequest, path: str) -> JsonResponse:
    """Any other path under /api/: the API's 404, not Django's HTML page."""
    return json_error(404, "not_found", "No such endpoint; the API is described at /api/docs.")
