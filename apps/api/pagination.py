"""Cursor pagination in a stable order: a page never repeats or skips a row when rows are added
between two requests, unlike page numbers or offsets."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from apps.api.errors import NOT_FOUND
from apps.api.fields import INT64_MAX

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class CursorPage(CursorPagination):
    """By ascending id: unique and never changed, the order cursors need. The parameters
    (`cursor`, `page_size`) are validated and documented by serializers.PageQuery."""

    ordering = "id"
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _bad_cursor() from None
        # The position goes into the query (id > position): it must be an id, or the database
        # would refuse the query instead of us refusing the cursor.
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except ValueError:
                raise _bad_cursor() from None
            if not 0 <= position <= INT64_MAX:
                raise _bad_cursor()
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return []  # documented by the view's query serializer (serializers.PageQuery)


def _bad_cursor() -> NotFound:
    message = "Not a cursor of this listing: use the next or previous link as given."
    return NotFound({"cursor": [ErrorDetail(message, code=NOT_FOUND)]})
