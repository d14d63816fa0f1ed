import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from api.roles import Power
from nexus.fieldnames import KeywordFilters
from nexus.pagination import CursorPagination
from nexus.permissions import StaffPermission

from .. import serializers
from ..filters import DateTimeFilter
from ..models import AuditRecord


class AuditFilter(KeywordFilters, django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_email", lookup_expr="iexact")
    action = django_filters.ChoiceFilter(choices=AuditRecord.Action.choices)
    object_id = django_filters.CharFilter()
    from_ = DateTimeFilter(field_name="timestamp", lookup_expr="gte")
    to = DateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = AuditRecord
        fields = ["actor", "action", "object_id", "to"]


@extend_schema_view(get=extend_schema(
    summary="Audit trail",
    description="Every staff action that changes money or risk state, through the API or the admin: deposits, "
                "reversals, account freezes and limits, FX rates, incident status, blacklist entries, a user's "
                "staff or active flag, and each step of dual control. Append-only: no one, not even a "
                "superuser, can edit or delete a record. `changes` holds `{field: [before, after]}`; "
                "`object_id` is the id the API uses (account number, UUID, email). Newest first; filter by "
                "`actor` (email), `action`, `object_id` and a `from`/`to` time range.",
))
class AuditListView(generics.ListAPIView):
    pagination_class = CursorPagination
    cursor_fields = ("timestamp", "id")
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_AUDIT_TRAIL]}
    serializer_class = serializers.AuditRecordSerializer
    filterset_class = AuditFilter
    queryset = AuditRecord.objects.order_by("-timestamp", "-id")
