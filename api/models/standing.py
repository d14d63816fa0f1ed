"""Standing orders (contract v1.3): a customer's instruction to pay the same amount on a schedule.

The order holds the schedule (``first_date``, ``interval``, ``end_date``) and the next date it owes a
run (``next_run_on``); each run is a row of its own, unique per (order, run date), written in the same
transaction as the transfer it made or the refusal it met (api.services.standing).
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .. import money
from . import AMOUNT, Account, Currency, Transaction


class StandingOrder(models.Model):
    class Interval(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"  # its end date passed: no run left

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey("api.User", on_delete=models.PROTECT, related_name="standing_orders", db_index=False)
    sender_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    receiver_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, choices=Currency.choices, help_text="The sender account's.")
    description = models.CharField(max_length=255, blank=True)
    interval = models.CharField(max_length=10, choices=Interval.choices)
    first_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    # The next date a run is owed on; null once the order is cancelled or finished.
    next_run_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Step-up across requests (api.services.stepup): an order created without a code counts towards the
    # user's running total of payments made without one, as a payment would (its runs never do).
    uncoded_total = models.DecimalField(max_digits=24, decimal_places=3, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey("api.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("cancel_standingorder", "Can cancel a customer's standing order")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="standingorder_amount_positive",
                                   violation_error_message="An amount must be above zero."),
            models.CheckConstraint(condition=~Q(sender_account=F("receiver_account")),
                                   name="standingorder_distinct_accounts",
                                   violation_error_message="The sender and the receiver must be different accounts."),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("first_date")),
                                   name="standingorder_end_after_first",
                                   violation_error_message="The last day cannot be before the first run."),
            models.CheckConstraint(condition=Q(status="active", next_run_on__isnull=False)
                                   | ~Q(status="active"), name="standingorder_active_has_next_run",
                                   violation_error_message="An active order has a next run date."),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="standingorder_owner_created"),
            # The scheduler's look-up: active orders due on or before a day.
            models.Index(fields=["next_run_on"], condition=Q(status="active"), name="standingorder_due"),
        ]

    def __str__(self):
        return (f"{self.get_interval_display()} {money.fmt(self.amount, self.currency)} {self.currency} "
                f"to {self.receiver_account_id}")


class StandingOrderRun(models.Model):
    """One due date of an order, carried out: the transfer it made, or the code it was refused with."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        REFUSED = "refused", "Refused"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(StandingOrder, on_delete=models.PROTECT, related_name="runs", db_index=False)
    run_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="standing_order_run")
    error_code = models.CharField(max_length=40, null=True, blank=True)  # null when it succeeded, as the API shows it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Exactly once: whatever the number of workers, restarts or retries.
            models.UniqueConstraint(fields=["order", "run_on"], name="standingorderrun_once_per_day"),
            models.CheckConstraint(condition=Q(status="succeeded", transaction__isnull=False, error_code__isnull=True)
                                   | Q(status="refused", transaction__isnull=True, error_code__isnull=False),
                                   name="standingorderrun_outcome",
                                   violation_error_message="A run either made a transfer or was refused with a code."),
        ]
        indexes = [models.Index(fields=["order", "-created_at", "-id"], name="standingorderrun_order_created")]

    def __str__(self):
        return f"{self.run_on} {self.status}"
