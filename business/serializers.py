import datetime as dt

from rest_framework import serializers

from api import bounds
from api.serializers.fields import DateField
from nexus.fieldnames import KeywordFields

MAX_RANGE_DAYS = 5 * 366


class RangeQuerySerializer(KeywordFields, serializers.Serializer):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (bank-local days); defaults given by the view."""

    from_ = DateField(required=False, help_text="YYYY-MM-DD (Asia/Amman day, 2000-2999)")
    to = DateField(required=False, help_text="YYYY-MM-DD (Asia/Amman day, 2000-2999), default today")

    def __init__(self, *args, default_days: int = 30, **kwargs):
        self.default_days = default_days
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        from .services import today

        last = attrs.get("to") or today()
        first = attrs.get("from") or max(bounds.EARLIEST, last - dt.timedelta(days=self.default_days - 1))
        if first > last:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        if (last - first).days > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"from": ["A range of at most five years."]})
        return {"from": first, "to": last}


class FiguresSerializer(serializers.Serializer):
    new_users = serializers.IntegerField()
    active_users = serializers.IntegerField(help_text="Distinct active users in the period (DAU for a day).")
    active_users_7d = serializers.IntegerField(help_text="Distinct users active in the 7 days to the period's end.")
    active_users_30d = serializers.IntegerField(help_text="Distinct users active in the 30 days to the period's end.")
    total_transactions_success = serializers.IntegerField()
    total_transactions_failed = serializers.IntegerField()
    total_transferred_amount = serializers.CharField(help_text="JOD")
    avg_transaction_value = serializers.CharField(help_text="JOD")
    fee_revenue = serializers.CharField(help_text="JOD")
    net_revenue = serializers.CharField(help_text="JOD: fees less fees refunded by reversals")
    bill_payments_count = serializers.IntegerField()
    bill_payments_amount = serializers.CharField(help_text="JOD")
    reversals_count = serializers.IntegerField()
    deposits_amount = serializers.CharField(help_text="JOD: cash deposits of the period, reversed later or not (as the "
                                                      "transfer figures; reversals are in `reversals_count`)")
    per_currency = serializers.DictField(child=serializers.DictField())


class PeriodSerializer(FiguresSerializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class SeriesSerializer(serializers.Serializer):
    results = PeriodSerializer(many=True)


class Last30Serializer(KeywordFields, FiguresSerializer):
    from_ = serializers.DateField()
    to = serializers.DateField()


class OverviewSerializer(serializers.Serializer):
    date = serializers.DateField()
    today = FiguresSerializer()
    last_30_days = Last30Serializer()
