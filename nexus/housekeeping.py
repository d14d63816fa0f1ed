"""The ground layer's scheduled housekeeping (settings.NEXUS_SCHEDULE, run by the job worker)."""

from django.utils import timezone

from . import queries

THROTTLE_WINDOW_KEEP_SECONDS = 86400


def purge_throttle_windows(*, slot) -> None:
    """Throttle counters whose window ended a day ago (they replaced a purge on one request in a thousand)."""
    queries.purge(int(timezone.now().timestamp()) - THROTTLE_WINDOW_KEEP_SECONDS)
