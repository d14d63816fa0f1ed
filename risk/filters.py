import django_filters

from .models import Incident, LoginEvent


class IncidentFilter(django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(choices=Incident.Severity.choices)
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    code = django_filters.CharFilter()
    user = django_filters.UUIDFilter(field_name="user_id")
    ip = django_filters.CharFilter(method="filter_ip")
    to = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = Incident
        fields = ["severity", "code", "status", "user", "ip", "to"]

    def filter_ip(self, queryset, name, value):
        from .services import normalize_cidr

        try:
            return queryset.filter(ip=normalize_cidr(value).split("/")[0])
        except ValueError:
            return queryset.none()


# "from" is a Python keyword: declared by name.
IncidentFilter.base_filters["from"] = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")


class LoginEventFilter(django_filters.FilterSet):
    ip = django_filters.CharFilter(method="filter_ip")
    email = django_filters.CharFilter(field_name="attempted_email", lookup_expr="iexact")
    successful = django_filters.BooleanFilter()

    class Meta:
        model = LoginEvent
        fields = ["ip", "email", "successful"]

    def filter_ip(self, queryset, name, value):
        return IncidentFilter.filter_ip(self, queryset, name, value)
