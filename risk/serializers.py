from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.field_mapping import get_field_kwargs

from api.serializers import JSONTypes

from .models import BlockedIP, Incident, LoginEvent
from .services import ALREADY_BLOCKED, is_blacklisted, normalize_cidr


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


# Loose on purpose around what Python's ipaddress takes (surrounding whitespace, any prefix length):
# a fuzzer reaches the blacklist with addresses, and nothing the API accepts is outside the schema.
_IPV4 = r"[0-9]{1,3}(\.[0-9]{1,3}){3}"
_IPV6 = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"


@extend_schema_field({
    "type": "string", "maxLength": 50, "example": "198.51.100.0/24",
    "pattern": rf"^\s*({_IPV4}|{_IPV6})(/[0-9]{{1,3}})?\s*$",
})
class CidrField(serializers.CharField):
    pass


def _model_field_kwargs(model, name: str) -> dict:
    """What ModelSerializer would pass to the field it builds (length, help text, unique validator)."""
    kwargs = get_field_kwargs(name, model._meta.get_field(name))
    kwargs.pop("model_field", None)  # as ModelSerializer does for a field class that is not a ModelField
    return kwargs


class BlockedIPSerializer(JSONTypes, serializers.ModelSerializer):
    # The model's own field, declared for its schema.
    cidr = CidrField(**_model_field_kwargs(BlockedIP, "cidr"))

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
        if is_blacklisted(cidr):
            raise serializers.ValidationError(ALREADY_BLOCKED)
        return cidr
