"""List filters: django-filter, strict."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that a filter sent with an empty value (``?status=``) is a 400.

    django-filter reads an empty value as "no filter"; for a client it is almost always a mistake
    (a form field left blank, a variable not filled in), and the schema documents no empty value.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = sorted(name for name in filterset_class.base_filters
                           if name in request.query_params and not request.query_params.get(name))
            if empty:
                raise ValidationError({name: ["Must not be empty."] for name in empty})
        return super().filter_queryset(request, queryset, view)
