import uuid

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models
from django.utils import timezone


class LoginEvent(models.Model):
    """One login attempt on any login surface (API, admin, password change), successful or not."""

    # Evidence (contract v1.3): the database refuses to change or delete an event (migration 0006), so a user
    # who has tried to log in cannot be deleted either (users are deactivated, never deleted).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="login_events")
    attempted_email = models.CharField(max_length=254)
    ip = models.GenericIPAddressField("IP address")
    country = models.CharField(max_length=2, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    successful = models.BooleanField()
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["ip", "-timestamp"], name="loginevent_ip_time"),
            models.Index(fields=["attempted_email", "-timestamp"], name="loginevent_email_time"),
            models.Index(fields=["user", "successful", "-timestamp"], name="loginevent_user_time"),
            models.Index(fields=["-timestamp"], name="loginevent_time"),
        ]

    def __str__(self):
        return f"{'ok' if self.successful else 'failed'} {self.attempted_email} from {self.ip}"


class Incident(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=40)
    event = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=13, choices=Status.choices, default=Status.OPEN)
    # Evidence (contract v1.3): an incident changes status, never disappears, and what it found stays as found
    # (migration 0006); the user it is about cannot be deleted.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="incidents")
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # What the rule is about (an email, an IP, a user id) and the dedup key: one incident per
    # rule, subject and window, enforced by a unique index against concurrent detections.
    subject = models.CharField(max_length=300)
    dedup_key = models.CharField(max_length=360, unique=True, editable=False)
    timestamp = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-timestamp"]
        indexes = [
            models.Index(fields=["code", "subject", "-timestamp"], name="incident_rule_subject"),
            models.Index(fields=["severity", "-timestamp"], name="incident_severity"),
            models.Index(fields=["status", "-timestamp"], name="incident_status"),
            models.Index(fields=["ip", "-timestamp"], name="incident_ip"),
            models.Index(fields=["user", "-timestamp"], name="incident_user"),
            models.Index(fields=["-timestamp"], name="incident_time"),
        ]

    def __str__(self):
        return f"[{self.severity}] {self.event} ({self.subject})"


class BlockedIP(models.Model):
    """An IP address or CIDR range whose requests are refused before any view runs."""

    cidr = models.CharField("IP address or network", max_length=50, unique=True, help_text="e.g. 203.0.113.7 or 203.0.113.0/24")
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "blocked IP"

    def __str__(self):
        return self.cidr


class LoginLockout(AccessAttempt):
    """django-axes' count of failed logins for one (email, IP) pair, as the back office's "Login lockouts" page
    shows it: the pair is locked out once the count reaches ``AXES_FAILURE_LIMIT`` within the cool-off period.

    A proxy, so that the page and its own permission (``risk.unlock_login``) belong to the risk app; an unlock
    goes through ``risk.services.lockout_unlock``, which writes the audit record.
    """

    class Meta:
        proxy = True
        verbose_name = "login lockout"
        permissions = [("unlock_login", "Can unlock locked-out logins")]
