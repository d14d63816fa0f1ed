"""Notifications (contract v1.2): the object the list shows and the WebSocket pushes."""


from rest_framework import serializers

from ..models import Notification
from ..services.notifications import as_json


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField()
    data = serializers.DictField(help_text="Ids only: transaction_id, account (the customer's own), event.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read", "created_at"]
        read_only_fields = fields

    def to_representation(self, notification):
        # Written out (api/serializers/fields.py, "Responses"): every money movement pushes this object on
        # the WebSocket (api.services.notifications.as_json, which writes it), and the list shows the same.
        return as_json(notification)
