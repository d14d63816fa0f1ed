"""What a customer is told (contract v1.2): money in or out, reversals, security events, refused standing orders."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notification(models.Model):
    """Something a customer is told about: money in or out, a reversal, a security event.

    Created after the commit of what it reports (api.services.notifications), so a rolled-back
    operation never notifies. ``data`` holds ids only, never another customer's balance.
    """

    class Kind(models.TextChoices):
        TRANSFER_IN = "transfer_in", "Money received"
        DEPOSIT = "deposit", "Deposit"
        TRANSFER_OUT = "transfer_out", "Money sent"
        BILL_PAID = "bill_paid", "Bill paid"
        REVERSAL = "reversal", "Reversal"
        SECURITY_ALERT = "security_alert", "Security alert"
        STANDING_ORDER_REFUSED = "standing_order_refused", "Standing order refused"  # v1.3

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey("api.User", on_delete=models.CASCADE, related_name="notifications", db_index=False)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_created"),
            models.Index(fields=["user", "-created_at", "-id"], condition=Q(read_at__isnull=True),
                         name="notification_user_unread"),
        ]

    def __str__(self):
        return f"{self.kind}: {self.title}"

    @property
    def read(self) -> bool:
        return self.read_at is not None
