from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

AMOUNT = {"max_digits": 20, "decimal_places": 3}


class MetricEvent(models.Model):
    """One business event, insert-only, recorded after the commit of what it describes.

    Nothing in the money path updates a shared row: each event is one INSERT, rolled up later.
    JOD equivalents are fixed when the event is recorded, so every rollup is an exact sum.
    """

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer (internal or external)"
        FAILED = "failed", "Refused money movement"
        BILL = "bill", "Bill payment"
        REVERSAL = "reversal", "Reversal"
        DEPOSIT = "deposit", "Deposit"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField(help_text="Business day in the bank's time zone (Asia/Amman).")
    occurred_at = models.DateTimeField(default=timezone.now)
    transaction_id = models.UUIDField(null=True, blank=True, unique=True)
    user_id = models.UUIDField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount = models.DecimalField(**AMOUNT, default=Decimal(0))
    amount_jod = models.DecimalField(**AMOUNT, default=Decimal(0))
    fee = models.DecimalField(**AMOUNT, default=Decimal(0))
    fee_jod = models.DecimalField(**AMOUNT, default=Decimal(0), help_text="For a reversal: the fee refunded.")

    class Meta:
        indexes = [models.Index(fields=["day", "kind"], name="metricevent_day_kind")]

    def __str__(self):
        return f"{self.day} {self.kind} {self.amount} {self.currency}"


class DailyActiveUser(models.Model):
    """(day, user) pairs: written with ON CONFLICT DO NOTHING, counted for DAU/WAU/MAU."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "user"], name="dau_unique_day_user")]
        indexes = [models.Index(fields=["day"], name="dau_day")]

    def __str__(self):
        return f"{self.day} {self.user_id}"


class DailyBusinessMetrics(models.Model):
    """The rolled-up figures of one business day (the report's table), read by the API and admin."""

    date = models.DateField(unique=True)
    new_users = models.PositiveIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)
    active_users_7d = models.PositiveIntegerField(default=0)
    active_users_30d = models.PositiveIntegerField(default=0)
    total_transactions_success = models.PositiveIntegerField(default=0)
    total_transactions_failed = models.PositiveIntegerField(default=0)
    total_transferred_amount = models.DecimalField(**AMOUNT, default=Decimal(0))
    avg_transaction_value = models.DecimalField(**AMOUNT, default=Decimal(0))
    fee_revenue = models.DecimalField(**AMOUNT, default=Decimal(0))
    net_revenue = models.DecimalField(**AMOUNT, default=Decimal(0))
    bill_payments_count = models.PositiveIntegerField(default=0)
    bill_payments_amount = models.DecimalField(**AMOUNT, default=Decimal(0))
    reversals_count = models.PositiveIntegerField(default=0)
    deposits_amount = models.DecimalField(**AMOUNT, default=Decimal(0))
    per_currency = models.JSONField(default=dict, blank=True)
    rolled_up_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        verbose_name = "daily business metrics"
        verbose_name_plural = "daily business metrics"

    def __str__(self):
        return f"Metrics {self.date}"
