from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


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
