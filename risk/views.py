from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from api.views.common import ERRORS
from nexus.permissions import StaffPermission

from . import serializers, services
from .filters import IncidentFilter, LoginEventFilter
from .models import BlockedIP, Incident, LoginEvent


class StaffOnly:
    permission_classes = [StaffPermission]


class IncidentListView(StaffOnly, generics.ListAPIView):
    staff_permissions = {"GET": ["risk.view_incident"]}
    serializer_class = serializers.IncidentSerializer
    queryset = Incident.objects.order_by("-timestamp")
    filterset_class = IncidentFilter


class IncidentDetailView(StaffOnly, generics.RetrieveAPIView):
    staff_permissions = {"GET": ["risk.view_incident"], "PATCH": ["risk.change_incident"]}
    serializer_class = serializers.IncidentSerializer
    queryset = Incident.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=serializers.IncidentUpdateSerializer,
                   responses={200: serializers.IncidentSerializer, **ERRORS})
    def patch(self, request, pk):
        incident = self.get_object()
        body = serializers.IncidentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_incident_status(incident=incident, status=body.validated_data["status"],
                                     note=body.validated_data["note"], by=request.user)
        return Response(serializers.IncidentSerializer(incident).data)


class LoginEventListView(StaffOnly, generics.ListAPIView):
    staff_permissions = {"GET": ["risk.view_loginevent"]}
    serializer_class = serializers.LoginEventSerializer
    queryset = LoginEvent.objects.order_by("-timestamp", "-id")
    filterset_class = LoginEventFilter


class BlacklistView(StaffOnly, generics.ListCreateAPIView):
    staff_permissions = {"GET": ["risk.view_blockedip"], "POST": ["risk.add_blockedip"]}
    serializer_class = serializers.BlockedIPSerializer
    queryset = BlockedIP.objects.order_by("-created_at")

    def perform_create(self, serializer):
        serializer.instance = services.block_ip(cidr=serializer.validated_data["cidr"],
                                                reason=serializer.validated_data.get("reason", ""),
                                                created_by=self.request.user)


class BlacklistDetailView(StaffOnly, generics.DestroyAPIView):
    staff_permissions = {"DELETE": ["risk.delete_blockedip"]}
    serializer_class = serializers.BlockedIPSerializer
    queryset = BlockedIP.objects.all()

    def destroy(self, request, *args, **kwargs):
        services.unblock_ip(blocked=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
