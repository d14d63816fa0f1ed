from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from api.exceptions import BlacklistRefused, NotFound
from api.roles import Power
from api.views.common import errors, request_example
from nexus.client_ip import client_ip
from nexus.pagination import CursorPagination
from nexus.permissions import StaffPermission

from . import serializers, services
from .filters import IncidentFilter, LoginEventFilter
from .models import BlockedIP, Incident, LoginEvent


@extend_schema_view(get=extend_schema(
    summary="Incidents",
    description="What the risk rules found, newest first: `impossible_travel`, `credential_stuffing`, "
                "`brute_force`, `velocity`, `unusual_hour`, `blacklisted_ip`. One incident per rule, subject and "
                "window: a burst raises one, not one per request. Filter by `severity`, `code`, `status`, "
                "`user` (id), `ip` and a `from`/`to` time range.",
))
class IncidentListView(generics.ListAPIView):
    permission_classes = [StaffPermission]
    pagination_class = CursorPagination
    cursor_fields = ("timestamp", "id")
    staff_permissions = {"GET": [Power.VIEW_INCIDENTS]}
    serializer_class = serializers.IncidentSerializer
    queryset = Incident.objects.order_by("-timestamp")
    filterset_class = IncidentFilter


@extend_schema_view(get=extend_schema(summary="One incident", description="With its rule's `details` and the note "
                                                                          "of its last status change.",
                                      responses={200: serializers.IncidentSerializer, **errors(NotFound)}))
class IncidentDetailView(generics.RetrieveAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_INCIDENTS], "PATCH": [Power.HANDLE_INCIDENT]}
    serializer_class = serializers.IncidentSerializer
    queryset = Incident.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        summary="Acknowledge or resolve an incident",
        description="Sets the status (`open`, `acknowledged`, `resolved`) with an optional note, kept on the "
                    "incident with who and when. Written to the audit trail. Incidents cannot be deleted.",
        request=serializers.IncidentUpdateSerializer,
        responses={200: serializers.IncidentSerializer, **errors(NotFound)},
        examples=[request_example("Resolve", {"status": "resolved", "note": "Customer confirmed the trip abroad"})],
    )
    def patch(self, request, pk):
        incident = self.get_object()
        body = serializers.IncidentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_incident_status(incident=incident, status=body.validated_data["status"],
                                     note=body.validated_data["note"], by=request.user)
        return Response(serializers.IncidentSerializer(incident).data)


@extend_schema_view(get=extend_schema(
    summary="Login events",
    description="Every login attempt on every login surface (the API, the admin form, password changes), "
                "successful or not, newest first. Filter by `ip`, `email` and `successful`.",
))
class LoginEventListView(generics.ListAPIView):
    permission_classes = [StaffPermission]
    pagination_class = CursorPagination
    cursor_fields = ("timestamp", "id")
    staff_permissions = {"GET": [Power.VIEW_LOGIN_EVENTS]}
    serializer_class = serializers.LoginEventSerializer
    queryset = LoginEvent.objects.order_by("-timestamp", "-id")
    filterset_class = LoginEventFilter


@extend_schema_view(
    get=extend_schema(summary="IP blacklist", description="Blocked addresses and ranges, newest first."),
    post=extend_schema(
        summary="Block an IP address or range",
        description="Every request from it then gets 403 `ip_blocked` before any view (logins included) and "
                    "raises a `blacklisted_ip` incident. Takes effect within seconds on every server. An "
                    "IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is stored as its IPv4 address. Written to the "
                    "audit trail. No entry may lock the bank out: a range wider than /16 (IPv4) or /48 (IPv6), or "
                    "one holding a loopback address, a trusted proxy or the caller's own address is refused "
                    "(`details.reason`: `too_wide`, `contains_loopback`, `contains_trusted_proxy`, "
                    "`contains_requester`).",
        responses={201: serializers.BlockedIPSerializer, **errors(
            (BlacklistRefused, "The range could lock the bank out: too wide, or it holds a loopback address, a "
                               "trusted proxy or the caller's own address (`details.reason` says which)."))},
        examples=[request_example("A range", {"cidr": "198.51.100.0/24", "reason": "Credential stuffing source"})],
    ),
)
class BlacklistView(generics.ListCreateAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_BLACKLIST], "POST": [Power.BLOCK_IP]}
    serializer_class = serializers.BlockedIPSerializer
    queryset = BlockedIP.objects.order_by("-created_at")

    def perform_create(self, serializer):
        serializer.instance = services.block_ip(cidr=serializer.validated_data["cidr"],
                                                reason=serializer.validated_data.get("reason", ""),
                                                created_by=self.request.user,
                                                requester_ip=client_ip(self.request))


@extend_schema_view(delete=extend_schema(
    summary="Unblock an IP address or range",
    description="Requests from it are served again within seconds. Written to the audit trail.",
    responses={204: OpenApiResponse(description="Unblocked."), **errors(NotFound)},
))
class BlacklistDetailView(generics.DestroyAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"DELETE": [Power.UNBLOCK_IP]}
    serializer_class = serializers.BlockedIPSerializer
    queryset = BlockedIP.objects.all()

    def destroy(self, request, *args, **kwargs):
        services.unblock_ip(blocked=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
