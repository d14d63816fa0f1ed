"""Series of KPI figures for the staff API and the dashboard: reports composed from the figures the services compute."""

import datetime as dt

from api import money

from . import services
from .models import DailyBusinessMetrics

MONEY_FIELDS = ("total_transferred_amount", "avg_transaction_value", "fee_revenue", "net_revenue",
                "bill_payments_amount", "deposits_amount")
FIELDS = ("new_users", "active_users", "active_users_7d", "active_users_30d", "total_transactions_success",
          "total_transactions_failed", *MONEY_FIELDS[:4], "bill_payments_count", "bill_payments_amount",
          "reversals_count", "deposits_amount", "per_currency")


def render(values: dict) -> dict:
    """Money as JOD strings (3 decimals); counts as integers."""
    return {field: (money.fmt(values[field], "JOD") if field in MONEY_FIELDS else values[field]) for field in FIELDS}


def row_values(row) -> dict:
    return {field: getattr(row, field) for field in FIELDS}


def daily(first: dt.date, last: dt.date) -> list[dict]:
    return [{"period_start": row.date, "period_end": row.date, **render(row_values(row))}
            for row in services.daily_rows(first, last)]


def _periods(first: dt.date, last: dt.date, start_of):
    start = start_of(first)
    while start <= last:
        following = start_of(start + dt.timedelta(days=32 if start_of is month_start else 7))
        end = following - dt.timedelta(days=1)
        yield max(start, first), min(end, last)
        start = following


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def periodic(first: dt.date, last: dt.date, start_of) -> list[dict]:
    """Weekly or monthly figures, each computed over its whole period (distinct users, exact sums);
    a period outside the days that can hold figures is zeros, without a query."""
    span = services.figures_span()
    zero = row_values(DailyBusinessMetrics())

    def values(start, end):
        return services.figures(start, end) if span and start <= span[1] and end >= span[0] else zero

    return [{"period_start": start, "period_end": end, **render(values(start, end))}
            for start, end in _periods(first, last, start_of)]


def overview() -> dict:
    today = services.today()
    return {
        "date": today,
        "today": render(row_values(services.daily_rows(today, today)[0])),
        "last_30_days": {"from": today - dt.timedelta(days=29), "to": today,
                         **render(services.figures(today - dt.timedelta(days=29), today))},
    }
