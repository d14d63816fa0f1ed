import base64
import binascii
import json
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .cursors import NEXT, PREVIOUS


class Pagination(PageNumberPagination):
    """``{"next", "previous", "results"}``; 50 per page, ``?page_size=`` up to 200.

    No ``COUNT(*)``: the contract makes ``count`` optional, and counting a long statement on every
    page costs a second query as long as the first. One row more than the page is read to know
    whether a next page exists. A page past the last one is a 404, as DRF answers.

    A ``page`` or ``page_size`` that is not a positive integer is a 400 (DRF would silently use
    page 1 or the default size); a size above the maximum is capped, as documented.

    Views that read rows without the ORM pass ``paginate_rows`` a function of (offset, limit).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    MAX_PAGE = 10_000_000  # beyond it the offset alone would be absurd: answered as past the end

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_rows(lambda offset, limit: list(queryset[offset:offset + limit]), request)

    def paginate_rows(self, fetch, request):
        """The rows of the requested page; ``fetch(offset, limit)`` returns at most ``limit`` rows."""
        self.request = request
        size = self.get_page_size(request)
        self.number = self.get_page_number(request)
        if self.number > self.MAX_PAGE:
            raise NotFound(self.invalid_page_message)
        rows = fetch((self.number - 1) * size, size + 1)
        if not rows and self.number > 1:
            raise NotFound(self.invalid_page_message)
        self.has_next = len(rows) > size
        return rows[:size]

    def get_page_number(self, request, paginator=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_query_param: ["A positive integer."]})
        return int(raw)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_size_query_param: ["A positive integer."]})
        return min(int(raw), self.max_page_size)

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"].pop("count")
        response["required"] = ["next", "previous", "results"]
        return response

    def get_html_context(self):  # no browsable API here; DRF's version needs the page count
        return {}

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters



class CursorPagination(Pagination):
    """Contract v1.3: ``{"next", "previous", "results"}`` with opaque cursors, newest first, over a unique
    (time, id) ordering: a client walking a list while new items arrive never sees one twice and never
    misses one that existed when it started (an offset shifts under every insert: page 2 repeated the
    last line of page 1 after one transfer landed). Each page reads the rows strictly older (``next``)
    or newer (``previous``) than the cursor's position through the list's (time, id) index: page 200
    costs what page 1 costs.

    A view names its ordering with ``cursor_fields`` (``("created_at", "id")`` unless it says otherwise);
    views that read rows without the ORM pass ``paginate_rows`` a function ``fetch(cursor, limit)`` and
    give each row its ``(time, id)`` as ``row["_position"]``.
    """

    cursor_query_param = "cursor"
    cursor_fields = ("created_at", "id")
    invalid_cursor = "Not a cursor of this list: follow `next` and `previous` as given."

    def paginate_queryset(self, queryset, request, view=None):
        time_field, id_field = getattr(view, "cursor_fields", self.cursor_fields)
        newest_first = (f"-{time_field}", f"-{id_field}")

        def fetch(cursor, limit):
            if cursor is None:
                return list(queryset.order_by(*newest_first)[:limit])
            direction, at, key = cursor
            if direction == NEXT:
                older = Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, f"{id_field}__lt": key})
                return list(queryset.filter(older).order_by(*newest_first)[:limit])
            newer = Q(**{f"{time_field}__gt": at}) | Q(**{time_field: at, f"{id_field}__gt": key})
            return list(queryset.filter(newer).order_by(time_field, id_field)[:limit])[::-1]

        return self.paginate_rows(fetch, request,
                                  position=lambda row: (getattr(row, time_field), getattr(row, id_field)))

    def paginate_rows(self, fetch, request, position=lambda row: row["_position"]):
        """The page's rows, newest first; ``fetch(cursor, limit)``: ``cursor`` is None (the newest) or
        ``(NEXT | PREVIOUS, time, id)``, and a PREVIOUS fetch returns the rows newest first too."""
        self.request = request
        if self.page_query_param in request.query_params:
            raise ValidationError({self.page_query_param: ["This list pages by cursor: follow `next` and "
                                                           "`previous` as given."]})
        size = self.get_page_size(request)
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        try:
            rows = fetch(cursor, size + 1)
        except (ValueError, TypeError, DjangoValidationError):  # a position of another type of list
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor]}) from None
        backward = cursor is not None and cursor[0] == PREVIOUS
        more = len(rows) > size
        rows = (rows[1:] if more else rows) if backward else rows[:size]
        self.next_position = position(rows[-1]) if rows and (more or backward) else None
        self.previous_position = position(rows[0]) if rows and (backward and more or cursor and not backward) else None
        return rows

    def _decode(self, raw: str | None):
        if raw is None:
            return None
        try:
            direction, at, key = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=="))
            if direction not in (NEXT, PREVIOUS) or not isinstance(key, (str, int)):
                raise ValueError(direction)
            return direction, datetime.fromisoformat(at), key
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor]}) from None

    def _link(self, direction: str, position) -> str:
        at, key = position
        token = base64.urlsafe_b64encode(json.dumps(
            [direction, at.isoformat(), key if isinstance(key, int) else str(key)]).encode()).decode().rstrip("=")
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, token)

    def get_next_link(self):
        return None if self.next_position is None else self._link(NEXT, self.next_position)

    def get_previous_link(self):
        return None if self.previous_position is None else self._link(PREVIOUS, self.previous_position)

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Where the page starts: take it from `next` or `previous` as given (opaque).",
             "schema": {"type": "string", "maxLength": 200}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Lines per page, 1 to {self.max_page_size} (default {self.page_size}).",
             "schema": {"type": "integer", "minimum": 1}},
        ]

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        for name in ("next", "previous"):
            response["properties"][name]["example"] = None
        return response
