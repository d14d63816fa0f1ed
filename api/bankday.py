"""The bank's business day, in ``settings.BANK_TIME_ZONE`` (Asia/Amman): daily limits, statements, KPIs."""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def bank_zone() -> ZoneInfo:
    return ZoneInfo(settings.BANK_TIME_ZONE)


def bank_day(moment: dt.datetime | None = None) -> dt.date:
    """The bank-local date of ``moment`` (default: now)."""
    return (moment or timezone.now()).astimezone(bank_zone()).date()


def iso_utc(moment: dt.datetime) -> str:
    """A timestamp as the API writes it: ISO 8601 in UTC, ``Z`` for the offset (as DRF's DateTimeField)."""
    text = moment.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=bank_zone())


# --- standing orders' dates (contract v1.3) ---------------------------------------------------
# Each date is counted from the first, never from the one before: a monthly order on the 31st runs on
# the 30th in April and the 28th or 29th in February, and on the 31st again in May.

WEEKLY, MONTHLY = "weekly", "monthly"


def nth_run(first: dt.date, interval: str, n: int) -> dt.date:
    """The date of run ``n`` (0 is ``first``) of an order starting on ``first``."""
    if interval == WEEKLY:
        return first + dt.timedelta(weeks=n)
    months = first.month - 1 + n
    year, month = first.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def _runs_up_to(first: dt.date, interval: str, day: dt.date) -> int:
    """How many runs fall on or before ``day``."""
    if day < first:
        return 0
    if interval == WEEKLY:
        return (day - first).days // 7 + 1
    n = (day.year - first.year) * 12 + day.month - first.month
    return n + 1 if nth_run(first, interval, n) <= day else n


def latest_run_on_or_before(first: dt.date, interval: str, day: dt.date) -> dt.date | None:
    count = _runs_up_to(first, interval, day)
    return nth_run(first, interval, count - 1) if count else None


def next_run_after(first: dt.date, interval: str, day: dt.date) -> dt.date:
    return nth_run(first, interval, _runs_up_to(first, interval, day))
