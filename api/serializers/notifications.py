"""Notifications (contract v1.2): the object the list shows and the WebSocket pushes."""


from rest_framework import serializers

from ..models import (
    Notification,
)
from .fields import (
    DATETIME,
)


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField()
    data = serializers.DictField(help_text="Ids only: transaction_id, account (the customer's own), event.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read", "created_at"]
        read_only_fields = fields

    def to_representation(self, notification):
        # Written out (see "Responses" above): every money movement pushes this object on the WebSocket
        # after commit (api.services.notifications), and the list shows the same.
        return {"id": str(notification.id), "kind": notification.kind, "title": notification.title,
                "body": notification.body, "data": notification.data, "read": notification.read,
                "created_at": DATETIME.to_representation(notification.created_at)}
