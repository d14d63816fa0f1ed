"""A customer's notifications (contract v1.2): the list and marking them read. Only one's own."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.pagination import CursorPagination

from .. import exceptions, selectors, serializers
from ..models import Notification
from ..services import notifications
from .common import NOT_FOUND, errors

TAG = ["notifications"]


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="by_unread",
                                         help_text="true: only unread; false: only read.")

    class Meta:
        model = Notification
        fields = ["unread"]

    def by_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")


class NotificationListView(ListModelMixin, GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = serializers.NotificationSerializer
    filterset_class = NotificationFilter  # a list filter like the others (nexus.filters): ?unread= is a 400

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return selectors.notifications_of(self.request.user)

    @extend_schema(
        tags=TAG, summary="The caller's notifications",
        description="Newest first: money in (`transfer_in`, `deposit`), money out (`transfer_out`, `bill_paid`), "
                    "`reversal`, `security_alert`, a refused standing order run (`standing_order_refused`). `data` holds ids (`transaction_id`, the caller's own `account`, "
                    "a security `event`), never another customer's balance. The WebSocket `/ws/notifications/` "
                    "pushes each one, the same object, as it is created.",
    )
    def get(self, request):
        return self.list(request)


class NotificationReadView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    @extend_schema(tags=TAG, request=None, summary="Mark one notification read",
                   description="Only one's own: anyone else's is 404, as one that does not exist.",
                   responses={204: OpenApiResponse(description="Read."), **errors(NOT_FOUND)})
    def post(self, request, pk):
        if not notifications.mark_read(user=request.user, notification_id=pk):
            raise exceptions.NotFound("Notification not found.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationReadAllView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    @extend_schema(tags=TAG, request=None, summary="Mark every notification read",
                   description="Every one of the caller's notifications, at once; nobody else's.",
                   responses={204: OpenApiResponse(description="All read.")})
    def post(self, request):
        notifications.mark_all_read(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
