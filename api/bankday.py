"""The bank's business day, in ``settings.BANK_TIME_ZONE`` (Asia/Amman): daily limits, statements, KPIs."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def bank_zone() -> ZoneInfo:
    return ZoneInfo(settings.BANK_TIME_ZONE)


def bank_day(moment: dt.datetime | None = None) -> dt.date:
    """The bank-local date of ``moment`` (default: now)."""
    return (moment or timezone.now()).astimezone(bank_zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=bank_zone())
