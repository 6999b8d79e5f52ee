"""How the API describes itself (drf-spectacular): every operation documents the answers it can
give besides success, in the one error shape, so schemathesis can hold every answer to the
schema; the key goes in either of two headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny, IsAuthenticated

from apps.api.authentication import HEADER, KEYWORD
from apps.api.errors import ErrorSerializer
from apps.api.serializers import StrictSerializer

_ERRORS = {
    400: "A query parameter or body field is wrong, unknown or repeated: `errors` names each.",
    401: "No API key, or one that is not valid, revoked or expired.",
    403: "The key may not do this.",
    404: "Nothing by that id among this key's rows (another owner's rows answer the same).",
    415: "The body is not JSON (send Content-Type: application/json).",
    429: "Too many requests with this key: retry after Retry-After seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        query = getattr(self.view, "query_serializer", None)
        if query is not None and query().fields:
            parameters.append(query)
        if self._error_statuses():
            parameters += [
                OpenApiParameter(
                    "Retry-After", int, OpenApiParameter.HEADER, response=[429],
                    description="Seconds until this key may send again.",
                ),
                OpenApiParameter(
                    "WWW-Authenticate", str, OpenApiParameter.HEADER, response=[401],
                    description=f"`{KEYWORD}`: send the key as `{HEADER}: <key>` or "
                    f"`Authorization: {KEYWORD} <key>`.",
                ),
            ]  # fmt: skip
        return parameters

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        # A StrictSerializer refuses fields it does not declare; the schema says so, or a
        # client (and the fuzz run) would take extra fields for allowed.
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        # Private in drf-spectacular, and the one place that sees every status of an operation.
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            error = OpenApiResponse(ErrorSerializer, description=_ERRORS[status])
            responses[str(status)] = self._get_response_for_code(error, str(status))
        return responses

    def _error_statuses(self) -> list[int]:
        """The error answers this operation can give: none for a public view (the schema and
        its viewers)."""
        permissions = [type(permission) for permission in self.view.get_permissions()]
        if AllowAny in permissions:
            return []
        statuses = [400, 401, 404]
        if any(permission is not IsAuthenticated for permission in permissions):
            statuses.append(403)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append(415)
        if self.view.get_throttles():
            statuses.append(429)
        return sorted(statuses)


class APIKeyScheme(OpenApiAuthenticationExtension):
    """apps.api.authentication: the key in either header, so two alternative schemes."""

    target_class = "apps.api.authentication.APIKeyAuthentication"
    name = ["ApiKeyHeader", "ApiKeyAuthorization"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{name: []} for name in self.name]  # either one (OR), not both

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": HEADER},
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": f"`Authorization: {KEYWORD} <key>`",
            },
        ]
