"""The core's scheduled housekeeping (settings.NEXUS_SCHEDULE, run by the job worker, once per slot)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from .models import IdempotencyBody, IdempotencyRecord, MfaChallenge


def purge_idempotency_keys(*, slot) -> int:
    """Keys older than ``IDEMPOTENCY_RETENTION_HOURS`` (never under 24: the contract keeps them a day)."""
    return purge_idempotency(hours=settings.IDEMPOTENCY_RETENTION_HOURS)


def purge_idempotency(*, hours: int) -> int:
    """Records and kept bodies older than ``hours`` (never under 24); how many records went."""
    cutoff = timezone.now() - timedelta(hours=max(hours, 24))
    IdempotencyBody.objects.filter(created_at__lt=cutoff).delete()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def purge_expired_tokens(*, slot) -> int:
    """Refresh tokens past their expiry (outstanding and blacklisted alike: neither can be used any more)
    and login tickets past theirs."""
    now = timezone.now()
    deleted, _ = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    MfaChallenge.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted
