"""Users: registration, login and tokens, passwords, two-factor authentication, staff control."""


from django.conf import settings
from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import selectors
from ..models import (
    User,
)
from .fields import (
    OTP_FIELD,
    JSONTypes,
)

# --- users -----------------------------------------------------------------------------------

def password_errors(password: str, user) -> list[str]:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS), as a list of messages."""
    try:
        password_validation.validate_password(password, user)
    except Exception as exc:  # django.core.exceptions.ValidationError
        return list(getattr(exc, "messages", [str(exc)]))
    return []


@extend_schema_field({"type": "string", "pattern": r"^([A-Za-z]{2})?$", "example": "JO",
                      "description": "ISO 3166-1 alpha-2 code (stored upper-case), or empty."})
class CountryField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=2, min_length=2, required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        if value and not (value.isascii() and value.isalpha()):
            raise serializers.ValidationError("An ISO 3166-1 alpha-2 code, e.g. JO.")
        return value


def _password_min_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith(".MinimumLengthValidator"):
            return validator.get("OPTIONS", {}).get("min_length", 8)
    return 1


@extend_schema_field({
    "type": "string", "format": "password", "writeOnly": True, "minLength": _password_min_length(), "maxLength": 128,
    "description": f"At least {_password_min_length()} characters; not a common password, not all digits, not "
                   "close to the email or names (those are checked too, and answered per field).",
})
class NewPasswordField(serializers.CharField):
    """Schema only: the length is checked by the password validators, with their own messages."""


class RegisterSerializer(JSONTypes, serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    country = CountryField()

    def validate_email(self, value):
        value = value.lower()
        if selectors.email_taken(value):
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def validate(self, attrs):
        candidate = User(email=attrs["email"], first_name=attrs.get("first_name", ""),
                         last_name=attrs.get("last_name", ""))
        errors = password_errors(attrs["password"], candidate)
        if errors:
            raise serializers.ValidationError({"password": errors})
        return attrs


class MeSerializer(JSONTypes, serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "country", "is_staff", "date_joined"]
        read_only_fields = ["id", "email", "is_staff", "date_joined"]


class LoginSerializer(JSONTypes, serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


@extend_schema_field({"type": "string", "maxLength": 4096, "pattern": r"^\s*[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\s*$",
                      "description": "A refresh token from `POST /auth/jwt/create/` or `/auth/jwt/refresh/`: three "
                                     "base64url parts separated by dots (a JWT)."})
class RefreshTokenField(serializers.CharField):
    pass


class RefreshSerializer(JSONTypes, serializers.Serializer):
    refresh = RefreshTokenField(max_length=4096)


class PasswordChangeSerializer(JSONTypes, serializers.Serializer):
    current_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    new_password = NewPasswordField(max_length=128, write_only=True, style={"input_type": "password"})



# --- two-factor authentication (contract v1.2) ----------------------------------------------

class MfaRequiredSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField(help_text="Always true: send a code to /auth/2fa/verify/.")
    mfa_token = serializers.CharField(help_text="Single-use, valid for 5 minutes.")


class TwoFactorSetupRequestSerializer(JSONTypes, serializers.Serializer):
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"},
                                     help_text="The account's password (v1.3): a token alone cannot enrol.")


class TwoFactorSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 TOTP secret (SHA-1, 6 digits, 30 s).")
    otpauth_url = serializers.CharField(help_text="otpauth:// URI for a QR code.")


class TwoFactorCodeSerializer(JSONTypes, serializers.Serializer):
    code = serializers.CharField(**OTP_FIELD)


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField(), min_length=10, max_length=10,
                                           help_text="Ten single-use codes, shown this once.")


class TwoFactorDisableSerializer(JSONTypes, serializers.Serializer):
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    code = serializers.CharField(**OTP_FIELD)


class TwoFactorVerifySerializer(JSONTypes, serializers.Serializer):
    mfa_token = serializers.CharField(max_length=128)
    code = serializers.CharField(max_length=64, help_text="A current TOTP code or an unused recovery code.")



# --- staff control of users (contract v1.2) -----------------------------------------------------

class BlockSerializer(JSONTypes, serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class UnblockSerializer(JSONTypes, serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StaffUserSerializer(serializers.ModelSerializer):
    blocked = serializers.SerializerMethodField()
    two_factor_enabled = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_active", "blocked", "blocked_at", "blocked_reason",
                  "two_factor_enabled"]
        read_only_fields = fields

    def get_blocked(self, user) -> bool:
        return user.blocked_at is not None

    def get_two_factor_enabled(self, user) -> bool:
        return selectors.two_factor_enabled(user)
