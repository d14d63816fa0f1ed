import django_filters
from rest_framework import generics

from nexus.permissions import StaffPermission

from .. import bounds, serializers
from ..models import AuditRecord


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_email", lookup_expr="iexact")
    action = django_filters.ChoiceFilter(choices=AuditRecord.Action.choices)
    object_id = django_filters.CharFilter()
    to = bounds.DateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = AuditRecord
        fields = ["actor", "action", "object_id", "to"]


# "from" is a Python keyword: declared by name.
AuditFilter.base_filters["from"] = bounds.DateTimeFilter(field_name="timestamp", lookup_expr="gte")


class AuditListView(generics.ListAPIView):
    """The audit trail, newest first: every staff action on money or risk state. Read-only."""

    permission_classes = [StaffPermission]
    staff_permissions = {"GET": ["api.view_auditrecord"]}
    serializer_class = serializers.AuditRecordSerializer
    filterset_class = AuditFilter
    queryset = AuditRecord.objects.order_by("-timestamp", "-id")
