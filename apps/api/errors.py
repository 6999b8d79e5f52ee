"""One error shape for the whole API, documented in the schema as `Error`:

    {"code": "invalid", "message": "enabled: Must be true or false.",
     "errors": [{"field": "enabled", "code": "invalid", "message": "Must be true or false."}]}

`errors` names each offending query parameter or body field (dotted for nested ones), empty when
the error is about the request as a whole (no key, throttled, no such path).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

# The code of a reference to a row the key cannot see (fields.TenantRef): answered 404 like a
# path naming such a row, so another owner's rows and missing rows look the same.
NOT_FOUND = "not_found"


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="The query parameter or body field, dotted when nested (`targets.0.chat_id`); "
        "null when the error is about the request as a whole.",
    )
    code = serializers.CharField(help_text="Why, for programs: required, invalid, unknown, …")
    message = serializers.CharField(help_text="Why, for people.")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="invalid, not_found, not_authenticated, authentication_failed, "
        "permission_denied, throttled, parse_error, unsupported_media_type, method_not_allowed, "
        "not_acceptable"
    )
    message = serializers.CharField(help_text="What went wrong, naming the fields.")
    # DRF's metaclass moves declared fields off the class, so Serializer.errors stays intact.
    errors = FieldErrorSerializer(many=True)  # type: ignore[assignment]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every APIException in the shape above; anything else is left to
    Django (a 500, logged and reported as usual)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # Django's message may name a model or a query
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    status = exc.status_code
    if isinstance(exc.detail, dict | list):
        flat = list(_flatten(exc.detail, []))
        errors = [
            {"field": field, "code": detail.code or "invalid", "message": str(detail)}
            for field, detail in flat
        ]
        code = exc.default_code
        if (
            isinstance(exc, exceptions.ValidationError)
            and flat
            and all(detail.code == NOT_FOUND for _, detail in flat)
        ):
            status, code = 404, NOT_FOUND
        message = " ".join(f"{field}: {detail}" if field else str(detail) for field, detail in flat)
    else:
        errors = []
        code = exc.detail.code or exc.default_code
        message = str(exc.detail)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(exc.wait)  # type: ignore[attr-defined]
    set_rollback()
    return Response(body(code, message, errors), status=status, headers=headers)


def body(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or []}


def json_error(status: int, code: str, message: str) -> JsonResponse:
    """The same shape from a plain Django view (outside DRF)."""
    return JsonResponse(body(code, message), status=status)


def _flatten(detail: Any, path: list[str]) -> Iterator[tuple[str | None, exceptions.ErrorDetail]]:
    """(dotted field or None, ErrorDetail) for every message in DRF's nested error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            nested = path if key == api_settings.NON_FIELD_ERRORS_KEY else [*path, str(key)]
            yield from _flatten(value, nested)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            # A list of messages belongs to the field itself; a list of objects is indexed.
            yield from _flatten(item, [*path, str(index)] if isinstance(item, dict) else path)
    else:
        yield (".".join(path) or None), detail
