"""The fields every serializer of the API shares: money, account numbers, JSON types, idempotency keys, times."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import get_attribute
from rest_framework.settings import api_settings
from rest_framework.utils import html

from nexus.fieldnames import PlainFields

from .. import bounds, money
from ..identifiers import is_valid_account_number
from ..services.money_request import KEY_PATTERN


class UtcDateTimeField(serializers.DateTimeField):
    """DRF's ``DateTimeField`` in UTC. A value already in UTC (every one the database and
    ``timezone.now()`` give) is written directly, the very text DRF writes (ISO 8601, "Z"): DRF's
    own path (format and zone lookups, a conversion to the same zone) took 4.2 us a value, this 0.5."""

    def to_representation(self, value):
        if (value.__class__ is dt.datetime and value.tzinfo is dt.UTC
                and getattr(self, "format", api_settings.DATETIME_FORMAT) == ISO_8601):
            return value.isoformat()[:-6] + "Z"  # isoformat() of a UTC value ends "+00:00"
        return super().to_representation(value)


# Timestamps as the API writes them, as DRF's fields do (ISO 8601, "Z"), always in UTC: also for work
# done in an admin request, where Amman's zone is active. Naming the zone spares looking up the current
# one on every call, which was a quarter of the time a statement page took to render.
DATETIME = UtcDateTimeField(default_timezone=dt.UTC)

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
class JSONTypes(PlainFields):

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



OTP_FIELD = {"max_length": 64, "help_text": "A current 6-digit code from the authenticator app."}


# --- dates: the bounds (api.bounds) as DRF fields (request bodies and query serializers) --------------

def _drf(parse, text):
    try:
        return parse(text)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class _SentEmptyIsInvalid:
    """A query parameter sent empty (``?from=``) is a date that does not parse, as in a JSON body and
    in the list filters (nexus.filters), not an absent one: DRF reads an empty value of an optional
    field in form or query data as "not sent"."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if value is serializers.empty and html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return value


@extend_schema_field(bounds.DATE_SCHEMA)
class DateField(_SentEmptyIsInvalid, serializers.DateField):
    def to_internal_value(self, value):
        return _drf(bounds.parse_date, value)


@extend_schema_field(bounds.DATETIME_SCHEMA)
class DateTimeField(_SentEmptyIsInvalid, serializers.DateTimeField):
    def to_internal_value(self, value):
        return _drf(bounds.parse_datetime, value)
