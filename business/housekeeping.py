"""The business figures' scheduled work (settings.NEXUS_SCHEDULE, run by the job worker)."""

import datetime as dt

from . import services

CLOSED_DAYS_REDONE = 2


def rollup_closed_days(*, slot) -> None:
    """Store the figures of the days that just closed (Asia/Amman): reads never write them
    (business.services.daily_rows computes an open or missing day)."""
    today = services.today()
    for offset in range(1, CLOSED_DAYS_REDONE + 1):
        services.rollup(today - dt.timedelta(days=offset))
