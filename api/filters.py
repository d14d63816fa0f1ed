"""django-filter list filters on the bounds (api.bounds): a date-time out of range is a 400, with the
schema's shape (docs/ARCHITECTURE.md: the request layer)."""

import django_filters
from drf_spectacular.utils import extend_schema_field

from . import bounds


@extend_schema_field(bounds.DATE_SCHEMA)
class DateFilter(django_filters.DateFilter):
    field_class = bounds.FormDateField


@extend_schema_field(bounds.DATETIME_SCHEMA)
class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = bounds.FormDateTimeField
