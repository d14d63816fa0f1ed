import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from api.filters import DateTimeFilter
from nexus.fieldnames import KeywordFilters

from .models import Incident, LoginEvent


class IncidentFilter(KeywordFilters, django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(choices=Incident.Severity.choices)
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    code = django_filters.CharFilter()
    user = django_filters.UUIDFilter(field_name="user_id")
    ip = django_filters.CharFilter(method="filter_ip")
    from_ = DateTimeFilter(field_name="timestamp", lookup_expr="gte")
    to = DateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = Incident
        fields = ["severity", "code", "status", "user", "ip", "to"]

    def filter_ip(self, queryset, name, value):
        from .services import normalize_cidr

        try:
            return queryset.filter(ip=normalize_cidr(value).split("/")[0])
        except ValueError:
            return queryset.none()


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
