from rest_framework import serializers

from api.serializers import JSONTypes

from .models import BlockedIP, Incident, LoginEvent
from .services import ALREADY_BLOCKED, normalize_cidr


class IncidentSerializer(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id", allow_null=True, read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "code", "event", "severity", "status", "user", "ip", "country", "details", "timestamp",
                  "note", "status_changed_at"]
        read_only_fields = fields


class IncidentUpdateSerializer(JSONTypes, serializers.Serializer):
    status = serializers.ChoiceField(choices=Incident.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class LoginEventSerializer(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id", allow_null=True, read_only=True)

    class Meta:
        model = LoginEvent
        fields = ["id", "user", "attempted_email", "ip", "country", "user_agent", "successful", "timestamp"]
        read_only_fields = fields


class BlockedIPSerializer(JSONTypes, serializers.ModelSerializer):
    class Meta:
        model = BlockedIP
        fields = ["id", "cidr", "reason", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"reason": {"required": False}}

    def validate_cidr(self, value):
        try:
            cidr = normalize_cidr(value)
        except ValueError as exc:
            raise serializers.ValidationError("An IP address or CIDR range, e.g. 203.0.113.0/24.") from exc
        if BlockedIP.objects.filter(cidr=cidr).exists():
            raise serializers.ValidationError(ALREADY_BLOCKED)
        return cidr
