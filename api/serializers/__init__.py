import datetime as dt

from django.conf import settings
from django.contrib.auth import password_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute

from nexus.fieldnames import KeywordFields

from .. import bounds, money
from ..idempotency import KEY_PATTERN
from ..identifiers import is_valid_account_number
from ..models import (
    Account,
    Approval,
    AuditRecord,
    Biller,
    BillPayment,
    Card,
    Notification,
    Transaction,
    TwoFactor,
    User,
)
from ..selectors import sees_all_transactions

# Timestamps as the API writes them, as DRF's fields do (ISO 8601, "Z"), always in UTC: also for work
# done in an admin request, where Amman's zone is active. Naming the zone spares looking up the current
# one on every call, which was a quarter of the time a statement page took to render.
DATETIME = serializers.DateTimeField(default_timezone=dt.UTC)

# Responses. A serializer's declared fields are its schema and, by default, its output. Four on hot
# paths (an account, a transaction, a statement line, a notification) write the same output out in
# ``to_representation``, because DRF copies and walks every field for every object. Measured
# in-process (2026-11-30, the shared 2-core machine under load, best of 7), written out vs through
# the fields: a transaction 0.05 vs 0.75-0.89 ms; two accounts 0.04-0.06 vs 0.43-0.49 ms; a statement
# page of 20 lines 0.26-0.29 vs 1.2-1.35 ms; a transfer's two notifications 0.04-0.05 vs 0.83-0.87 ms.
# A whole transfer is about 3 ms of Python, a read 1.7 ms (bench/README.md).
# tests/nexus/test_honest_serializers.py checks that each gives exactly what its fields give, and
# that no other serializer writes its output by hand.

# The bounds' shape, and not zero: the schema says all that the field checks before the currency is known.
POSITIVE_AMOUNT_PATTERN = r"^(?!0*(\.0*)?$)" + bounds.AMOUNT_PATTERN.removeprefix("^")


@extend_schema_field({"type": "string", "format": "decimal", "pattern": POSITIVE_AMOUNT_PATTERN, "example": "100.50",
                      "description": "A decimal string (never a JSON number) greater than 0 and at most 1000000000, "
                                     "with at most the decimals of the currency it is in (JOD 3, USD 2, EUR 2): "
                                     "an amount in USD with 3 decimals is a 400, not rounded."})
class MoneyInputField(serializers.Field):
    """A positive decimal string of at most ``bounds.MAX_AMOUNT`` with at most 3 written decimals
    (each currency then checks its own).

    Exactly the documented pattern: at most 10 digits before the point, 3 after, and the bound.
    """

    default_error_messages = {"max": f"At most {bounds.MAX_AMOUNT}.",
                              "places": "At most 3 decimal places."}

    def __init__(self, **kwargs):
        kwargs["validators"] = [bounds.validate_amount, *kwargs.get("validators", [])]
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            amount = money.parse_amount(data)
        except money.MoneyError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        whole, _, fraction = data.partition(".")
        if len(whole) > bounds.AMOUNT_INTEGER_DIGITS:
            self.fail("max")
        if len(fraction) > 3:
            self.fail("places")
        return amount

    def to_representation(self, value):
        return str(value)


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.ReadOnlyField):
    """A stored amount rendered with exactly the minor units of its currency."""

    def __init__(self, currency="currency", **kwargs):
        self.currency_attr = currency
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return super().get_attribute(instance), get_attribute(instance, [self.currency_attr])

    def to_representation(self, value):
        amount, currency = value
        return money.fmt(amount, currency)


@extend_schema_field({"type": "string", "pattern": r"^\d{12}$", "example": "100000000016",
                      "description": "12 digits, the last a check digit (Luhn): a number with a wrong check digit is "
                                     "a 400 (a pattern cannot say so). Valid examples (the demo bank's): `100000000016`, "
                                     "`200000000014`."})
class AccountNumberField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("min_length", 12)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_valid_account_number(value):
            raise serializers.ValidationError("Not a valid account number (check digit).")
        return value


# Mixin for request-body serializers: a value of the wrong JSON type is a 400. DRF coerces (``12``
# becomes ``"12"`` for a CharField, ``"true"`` a boolean, ``"7"`` an integer); the contract documents
# JSON types, so a number where a string belongs is malformed input. And a string longer than its
# documented maximum is refused even if trimming would shorten it. (A comment, not a docstring: the
# schema generator would show a mixin's docstring as the description of every request body.)
class JSONTypes:

    JSON_TYPES = [
        (serializers.BooleanField, bool, "a boolean"),
        (serializers.IntegerField, int, "an integer"),
        (serializers.CharField, str, "a string"),
        (serializers.ChoiceField, str, "a string"),
    ]

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                if field.read_only or data.get(name) is None:
                    continue
                value = data[name]
                for field_class, json_type, label in self.JSON_TYPES:
                    if isinstance(field, field_class):
                        if not isinstance(value, json_type) or (json_type is int and isinstance(value, bool)):
                            errors[name] = [f"Must be {label}."]
                        break
                # The documented maxLength holds for what is sent, before DRF trims whitespace.
                max_length = getattr(field, "max_length", None)
                if name not in errors and isinstance(value, str) and max_length and len(value) > max_length:
                    errors[name] = [f"Ensure this field has no more than {max_length} characters."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


@extend_schema_field({
    "type": "string", "maxLength": 64, "writeOnly": True,
    # As checked after DRF trims surrounding whitespace.
    "pattern": r"^\s*" + KEY_PATTERN.pattern.removeprefix("^").removesuffix("$") + r"\s*$",
    "description": "Optional: the `Idempotency-Key` header's value, sent in the body instead. New for every "
                   "operation (never a fixed value).",
})
class IdempotencyKeyField(serializers.CharField):
    pass


class IdempotencyKeyMixin(JSONTypes, serializers.Serializer):
    idempotency_key = IdempotencyKeyField(required=False, max_length=64, write_only=True)


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
        if User.objects.filter(email__iexact=value).exists():
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


# --- accounts and cards --------------------------------------------------------------------

class AccountSerializer(serializers.ModelSerializer):
    balance = AmountField()
    daily_limit = AmountField()

    class Meta:
        model = Account
        fields = ["account_number", "type", "currency", "balance", "is_active", "daily_limit", "created_at"]
        read_only_fields = fields

    def to_representation(self, account):
        # Written out (see "Responses" above): the hottest read of the API.
        return {
            "account_number": account.account_number, "type": account.type, "currency": account.currency,
            "balance": money.fmt(account.balance, account.currency), "is_active": account.is_active,
            "daily_limit": money.fmt(account.daily_limit, account.currency),
            "created_at": DATETIME.to_representation(account.created_at),
        }


class AccountCreateSerializer(JSONTypes, serializers.Serializer):
    type = serializers.ChoiceField(choices=Account.Type.choices)


class DepositSerializer(IdempotencyKeyMixin):
    amount = MoneyInputField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class CardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Card
        fields = ["id", "card_type", "masked_number", "last4", "expiration_date", "is_active"]
        read_only_fields = ["id", "card_type", "masked_number", "last4", "expiration_date"]


class CardCreateSerializer(JSONTypes, serializers.Serializer):
    card_type = serializers.ChoiceField(choices=Card.Type.choices)


class CardIssuedSerializer(serializers.ModelSerializer):
    card_number = serializers.CharField()
    cvv = serializers.CharField()

    class Meta:
        model = Card
        fields = ["id", "card_type", "card_number", "cvv", "last4", "expiration_date", "is_active"]


class CardUpdateSerializer(JSONTypes, serializers.Serializer):
    is_active = serializers.BooleanField()


class StatementLineSerializer(serializers.Serializer):
    """One movement of the account, as its ledger records it, and the balance after it."""

    transaction_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    direction = serializers.ChoiceField(choices=[("debit", "debit"), ("credit", "credit")])
    amount = AmountField()
    currency = serializers.CharField()
    balance_after = AmountField()
    counterparty_account = serializers.CharField(
        allow_null=True, help_text="The other account of the movement; null for a cash deposit (the bank's vault).")
    description = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, line):
        # Written out (see "Responses" above): a statement page is the second-hottest read.
        return {
            "transaction_id": str(line["transaction_id"]), "kind": line["kind"], "direction": line["direction"],
            "amount": money.fmt(line["amount"], line["currency"]), "currency": line["currency"],
            "balance_after": money.fmt(line["balance_after"], line["currency"]),
            "counterparty_account": line["counterparty_account"], "description": line["description"],
            "created_at": DATETIME.to_representation(line["created_at"]),
        }


# --- transfers -----------------------------------------------------------------------------

class TransferCreateSerializer(IdempotencyKeyMixin):
    sender_account = AccountNumberField()
    receiver_account = AccountNumberField()
    amount = MoneyInputField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class ReverseSerializer(IdempotencyKeyMixin):
    reason = serializers.CharField(max_length=255)


class TransactionSerializer(serializers.ModelSerializer):
    """A transaction as its viewer may see it: never the balance of an account that is not theirs."""

    sender_account = serializers.CharField(source="sender_account_id")
    receiver_account = serializers.CharField(source="receiver_account_id")
    amount = AmountField()
    fee_amount = AmountField()
    credited_amount = AmountField(currency="credited_currency")
    fx_rate = serializers.SerializerMethodField()
    idempotency_key = serializers.SerializerMethodField()
    sender_balance_after = serializers.SerializerMethodField()
    receiver_balance_after = serializers.SerializerMethodField()
    reverses = serializers.UUIDField(source="reverses_id", allow_null=True)

    class Meta:
        model = Transaction
        fields = [
            "id", "kind", "status", "sender_account", "receiver_account", "amount", "currency", "fee_amount",
            "credited_amount", "credited_currency", "fx_rate", "sender_balance_after", "receiver_balance_after",
            "description", "idempotency_key", "reverses", "created_at",
        ]
        read_only_fields = fields

    def _owns(self, account_field: str, txn: Transaction) -> bool:
        user = self.context["request"].user
        if sees_all_transactions(user):
            return True
        return getattr(txn, account_field).owner_id == user.pk

    @extend_schema_field({"type": "string", "nullable": True, "maxLength": 64})
    def get_idempotency_key(self, txn):
        # The key is the sender's own handle on the request; nobody else (receiver or staff) sees it.
        return txn.idempotency_key if txn.initiated_by_id == self.context["request"].user.pk else None

    @extend_schema_field({"type": "string", "nullable": True, "example": "1.410000"})
    def get_fx_rate(self, txn):
        return None if txn.fx_rate is None else format(txn.fx_rate.normalize(), "f")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_sender_balance_after(self, txn):
        if txn.sender_balance_after is None or not self._owns("sender_account", txn):
            return None
        return money.fmt(txn.sender_balance_after, txn.currency)

    # Absent from external transfers the viewer does not receive (see to_representation).
    @extend_schema_field({"type": "string", "nullable": True, "x-nexus-optional": True})
    def get_receiver_balance_after(self, txn):
        if txn.receiver_balance_after is None or not self._owns("receiver_account", txn):
            return None
        return money.fmt(txn.receiver_balance_after, txn.credited_currency)

    def to_representation(self, txn):
        # Written out (see "Responses" above): every transfer answers one.
        data = {
            "id": str(txn.id), "kind": txn.kind, "status": txn.status,
            "sender_account": txn.sender_account_id, "receiver_account": txn.receiver_account_id,
            "amount": money.fmt(txn.amount, txn.currency), "currency": txn.currency,
            "fee_amount": money.fmt(txn.fee_amount, txn.currency),
            "credited_amount": money.fmt(txn.credited_amount, txn.credited_currency),
            "credited_currency": txn.credited_currency, "fx_rate": self.get_fx_rate(txn),
            "sender_balance_after": self.get_sender_balance_after(txn),
            "receiver_balance_after": self.get_receiver_balance_after(txn),
            "description": txn.description, "idempotency_key": self.get_idempotency_key(txn),
            "reverses": None if txn.reverses_id is None else str(txn.reverses_id),
            "created_at": DATETIME.to_representation(txn.created_at),
        }
        # The receiver's balance is shown only to whoever owns it (internal transfers, incoming ones).
        if data["receiver_balance_after"] is None and txn.kind != Transaction.Kind.INTERNAL:
            data.pop("receiver_balance_after")
        return data


# --- FX and bills --------------------------------------------------------------------------

class FxRatesSerializer(serializers.Serializer):
    base = serializers.CharField()
    rates = serializers.DictField(child=serializers.CharField())
    as_of = serializers.DateTimeField(allow_null=True)


class FxQuoteQuerySerializer(KeywordFields, serializers.Serializer):
    from_ = serializers.ChoiceField(choices=money.CURRENCIES)
    to = serializers.ChoiceField(choices=money.CURRENCIES)
    amount = MoneyInputField()

    def validate(self, attrs):
        if not money.fits_currency(attrs["amount"], attrs["from"]):
            raise serializers.ValidationError({"amount": [f"Too many decimal places for {attrs['from']}."]})
        return attrs


class FxQuoteSerializer(KeywordFields, serializers.Serializer):
    from_ = serializers.CharField()
    to = serializers.CharField()
    amount = serializers.CharField()
    converted_amount = serializers.CharField()
    rate = serializers.CharField(allow_null=True)


class BillerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Biller
        fields = ["id", "name", "category", "currency"]


class BillCreateSerializer(IdempotencyKeyMixin):
    account = AccountNumberField()
    biller = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    amount = MoneyInputField()
    reference = serializers.CharField(max_length=64)


class BillPaymentSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account_id")
    biller = serializers.IntegerField(source="biller_id")
    amount = AmountField()
    debited_amount = AmountField(currency="debited_currency")
    balance_after = serializers.SerializerMethodField()

    class Meta:
        model = BillPayment
        fields = ["id", "account", "biller", "amount", "currency", "debited_amount", "reference", "status",
                  "balance_after", "created_at"]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_balance_after(self, bill):
        return money.fmt(bill.transaction.sender_balance_after, bill.transaction.currency)


# --- staff: accounts, dual control, audit trail ----------------------------------------------

class AccountUpdateSerializer(JSONTypes, serializers.Serializer):
    is_active = serializers.BooleanField(required=False)
    daily_limit = MoneyInputField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send is_active, daily_limit or both."]})
        return attrs


class ApprovalSerializer(serializers.ModelSerializer):
    """A dual-control request as staff see it; ``approval_id`` is its id."""

    approval_id = serializers.UUIDField(source="id")
    amount = AmountField()
    account_number = serializers.CharField(source="account_id", allow_null=True,
                                           help_text="The account of a deposit.")
    transaction_id = serializers.UUIDField(source="target_transaction_id", allow_null=True,
                                           help_text="The transaction a reversal would reverse.")
    requested_by = serializers.EmailField(source="requested_by.email")
    decided_by = serializers.EmailField(source="decided_by.email", allow_null=True, default=None)
    description = serializers.CharField(help_text="The deposit's description or the reversal's reason.")
    result_transaction_id = serializers.UUIDField(source="result_id", allow_null=True,
                                                  help_text="The transaction the approval made.")

    class Meta:
        model = Approval
        fields = ["approval_id", "status", "action", "amount", "currency", "account_number", "transaction_id",
                  "description", "requested_by", "created_at", "decided_by", "decided_at", "decision_reason",
                  "result_transaction_id"]
        read_only_fields = fields


class ApprovalRejectSerializer(JSONTypes, serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class AuditRecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_email")
    changes = serializers.DictField(child=serializers.ListField(min_length=2, max_length=2, allow_null=True),
                                    help_text="{field: [before, after]}")

    class Meta:
        model = AuditRecord
        fields = ["id", "actor", "action", "object_type", "object_id", "changes", "ip", "request_id", "timestamp"]
        read_only_fields = fields


# --- contract v1.2: two-factor authentication, step-up, notifications, staff control of users -----

OTP_FIELD = {"max_length": 64, "help_text": "A current 6-digit code from the authenticator app."}


class ExternalTransferCreateSerializer(TransferCreateSerializer):
    otp = serializers.CharField(required=False, write_only=True, **{
        **OTP_FIELD, "help_text": "Step-up: a current 6-digit TOTP code, required when the amount is worth at least "
                                 "STEP_UP_THRESHOLD (500 JOD by default) at current rates."})


class BillStepUpCreateSerializer(BillCreateSerializer):
    otp = serializers.CharField(required=False, write_only=True, **{
        **OTP_FIELD, "help_text": "Step-up: a current 6-digit TOTP code, required when the amount is worth at least "
                                 "STEP_UP_THRESHOLD (500 JOD by default) at current rates."})


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
        return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()
