"""Billers and bill payments."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import AMOUNT, Account, Currency, Transaction


class Biller(models.Model):
    class Category(models.TextChoices):
        ELECTRICITY = "electricity", "Electricity"
        WATER = "water", "Water"
        TELECOM = "telecom", "Telecom"
        INTERNET = "internet", "Internet"
        GOVERNMENT = "government", "Government"
        OTHER = "other", "Other"

    name = models.CharField(max_length=100, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.JOD)
    settlement_account = models.OneToOneField(
        Account, on_delete=models.PROTECT, related_name="biller", limit_choices_to={"role": "settlement"}
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class BillPayment(models.Model):
    class Status(models.TextChoices):
        PAID = "PAID", "Paid"
        REVERSED = "REVERSED", "Reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="bill_payments")
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**AMOUNT, help_text="In the biller's currency.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    debited_amount = models.DecimalField(**AMOUNT, help_text="In the account's currency.")
    reference = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PAID)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="bill_payment")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billpayment_amount_positive",
                                              violation_error_message="An amount must be above zero.")]
        indexes = [models.Index(fields=["account", "-created_at"], name="bill_account_created")]

    def __str__(self):
        return f"{self.biller} {self.amount} {self.currency} ({self.reference})"

    @property
    def debited_currency(self) -> str:
        return self.transaction.currency
