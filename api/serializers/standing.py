"""Standing orders (contract v1.3): the request body and the shapes of an order and of its runs."""

import datetime as dt

from rest_framework import serializers

from ..bankday import bank_day
from ..models import StandingOrder, StandingOrderRun
from .fields import (
    DATETIME,
    OTP_FIELD,
    AccountNumberField,
    AmountField,
    DateField,
    IdempotencyKeyMixin,
    MoneyInputField,
)

AHEAD = dt.timedelta(days=366)  # first_date: from today up to a year ahead


class StandingOrderCreateSerializer(IdempotencyKeyMixin):
    sender_account = AccountNumberField(help_text="One of the caller's accounts; the amount is in its currency.")
    receiver_account = AccountNumberField(help_text="Any active account: one of the caller's own (an internal "
                                                    "transfer, no fee) or another customer's (external, with its fee).")
    amount = MoneyInputField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    interval = serializers.ChoiceField(choices=StandingOrder.Interval.choices)
    first_date = DateField(help_text="The first run's bank day (Asia/Amman): from today up to a year ahead. A monthly "
                                     "order on the 29th-31st runs on the last day of shorter months.")
    end_date = DateField(required=False, allow_null=True, default=None,
                         help_text="Optional: no run after this day (on or after first_date).")
    otp = serializers.CharField(required=False, write_only=True, **{
        **OTP_FIELD, "help_text": "Step-up: a current 6-digit TOTP code, required when the amount needs one as for an "
                                 "external transfer (STEP_UP_THRESHOLD, or the day's total of payments made without "
                                 "a code). The runs then need none."})

    def validate(self, attrs):
        today = bank_day()
        first, end = attrs["first_date"], attrs.get("end_date")
        if not today <= first <= today + AHEAD - dt.timedelta(days=1):
            raise serializers.ValidationError({"first_date": [
                f"From today ({today}) up to a year ahead ({today + AHEAD - dt.timedelta(days=1)}), bank time."]})
        if end is not None and end < first:
            raise serializers.ValidationError({"end_date": ["On or after first_date."]})
        return attrs


class StandingOrderSerializer(serializers.ModelSerializer):
    sender_account = serializers.CharField(source="sender_account_id")
    receiver_account = serializers.CharField(source="receiver_account_id")
    amount = AmountField()
    created_at = DATETIME

    class Meta:
        model = StandingOrder
        fields = ["id", "sender_account", "receiver_account", "amount", "currency", "description", "interval",
                  "first_date", "end_date", "next_run_on", "status", "created_at"]
        read_only_fields = fields


class StandingOrderRunSerializer(serializers.ModelSerializer):
    transaction_id = serializers.UUIDField(allow_null=True, help_text="The transfer it made; null when refused.")
    error_code = serializers.CharField(allow_null=True, help_text="Why it was refused (the transfer's error code: "
                                                                  "insufficient_funds, daily_limit_exceeded, "
                                                                  "account_inactive, receiver_not_found); null when "
                                                                  "it succeeded.")
    created_at = DATETIME

    class Meta:
        model = StandingOrderRun
        fields = ["run_on", "status", "transaction_id", "error_code", "created_at"]
        read_only_fields = fields

