import datetime as dt

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from .models import Incident, LoginEvent

MAX_OFFSET = dt.timedelta(hours=14)  # the widest real-world UTC offset


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    """Real offsets only (Python accepts up to 23:59, PostgreSQL 15:59); compared in UTC."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValidationError({name: ["UTC offset out of range (at most +-14:00)."]})
    return value.astimezone(dt.UTC)


class IncidentFilter(django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(choices=Incident.Severity.choices)
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    code = django_filters.CharFilter()
    user = django_filters.UUIDFilter(field_name="user_id")
    ip = django_filters.CharFilter(method="filter_ip")
    to = django_filters.IsoDateTimeFilter(method="filter_before")

    class Meta:
        model = Incident
        fields = ["severity", "code", "status", "user", "ip", "to"]

    def filter_after(self, queryset, name, value):
        return queryset.filter(timestamp__gte=_utc(value, "from"))

    def filter_before(self, queryset, name, value):
        return queryset.filter(timestamp__lte=_utc(value, "to"))

    def filter_ip(self, queryset, name, value):
        from .services import normalize_cidr

        try:
            return queryset.filter(ip=normalize_cidr(value).split("/")[0])
        except ValueError:
            return queryset.none()


# "from" is a Python keyword: declared by name.
IncidentFilter.base_filters["from"] = django_filters.IsoDateTimeFilter(method="filter_after")


class LoginEventFilter(django_filters.FilterSet):
    ip = django_filters.CharFilter(method="filter_ip")
    email = django_filters.CharFilter(field_name="attempted_email", lookup_expr="iexact")
    # Strict: an unknown value is a 400, not silently "no filter".
    successful = extend_schema_field(OpenApiTypes.BOOL)(django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"))

    class Meta:
        model = LoginEvent
        fields = ["ip", "email", "successful"]

    def filter_ip(self, queryset, name, value):
        return IncidentFilter.filter_ip(self, queryset, name, value)
