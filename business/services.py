"""Recording (one INSERT per batch of events, by the job worker) and rollups of the business figures."""

import datetime as dt
import logging
from decimal import Decimal

from django.db.models import Count, Min, Sum
from django.utils import timezone

from api import money
from api.bankday import bank_day, day_start
from nexus.aftercommit import after_commit

from . import queries
from .fx import jod_value
from .models import DailyActiveUser, DailyBusinessMetrics, MetricEvent

log = logging.getLogger("nexus.business")

KIND_OF = {"internal": MetricEvent.Kind.TRANSFER, "external": MetricEvent.Kind.TRANSFER,
           "bill": MetricEvent.Kind.BILL, "reversal": MetricEvent.Kind.REVERSAL,
           "deposit": MetricEvent.Kind.DEPOSIT}
ZERO = Decimal(0)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_start(day), day_start(day + dt.timedelta(days=1))


# --- recording --------------------------------------------------------------------------------

def event_for_transaction(txn) -> MetricEvent:
    """The fact row of one successful posting (also used by rebuild_metrics, from the raw row)."""
    kind = KIND_OF[txn.kind]
    amount, currency, fee = txn.amount, txn.currency, txn.fee_amount
    credited_amount, credited_currency = txn.credited_amount, txn.credited_currency
    if kind == MetricEvent.Kind.REVERSAL:
        # A reversal is counted as a reversal of the original amount, with the fee it refunds.
        original = txn.reverses
        amount, currency, fee = original.amount, original.currency, original.fee_amount
        credited_amount, credited_currency = original.credited_amount, original.credited_currency
        at = original.created_at
    else:
        at = txn.created_at
    return MetricEvent(
        kind=kind, day=bank_day(txn.created_at), occurred_at=txn.created_at, transaction_id=txn.pk,
        user_id=txn.initiated_by_id, currency=currency, amount=amount, fee=fee,
        amount_jod=jod_value(amount, currency, credited_amount=credited_amount,
                             credited_currency=credited_currency, at=at),
        fee_jod=jod_value(fee, currency, at=at) if fee else ZERO,
    )


def record_transactions(transactions) -> None:
    """The facts of a batch of committed movements in one INSERT, in the job worker's transaction
    (api.reactions). A fact already there (``rebuild_metrics`` ran meanwhile) is kept, never doubled:
    the transaction id is unique."""
    queries.insert_facts([event_for_transaction(txn) for txn in transactions])


def record_refusal(*, user) -> None:
    now = timezone.now()
    MetricEvent.objects.create(kind=MetricEvent.Kind.FAILED, day=bank_day(now), occurred_at=now,
                               user_id=getattr(user, "pk", None), currency="")


def record_activity(*, user, when: dt.datetime | None = None) -> None:
    """The user was active today: one INSERT ... ON CONFLICT DO NOTHING (no transaction, no update)."""
    queries.mark_active(bank_day(when or timezone.now()), user.pk)


def record_login(*, user) -> None:
    after_commit(record_activity, user=user)


# --- rollups ----------------------------------------------------------------------------------

def _distinct_active(first: dt.date, last: dt.date) -> int:
    """Customers active in [first, last]: staff working in the back office are not the bank's users."""
    return (DailyActiveUser.objects.filter(day__gte=first, day__lte=last, user__is_staff=False)
            .values("user_id").distinct().count())


def _quantized_avg(total: Decimal, count: int) -> Decimal:
    return money.quantize(total / count, "JOD") if count else ZERO


def figures(first: dt.date, last: dt.date) -> dict:
    """Every KPI over [first, last] straight from the facts, users and DAU tables (exact sums)."""
    from api.models import User

    events = MetricEvent.objects.filter(day__gte=first, day__lte=last)
    by_kind = {row["kind"]: row for row in events.values("kind").annotate(
        n=Count("id"), amount_jod=Sum("amount_jod"), fee_jod=Sum("fee_jod"))}

    def pick(kind, field, default=ZERO):
        row = by_kind.get(kind)
        return (row[field] if row and row[field] is not None else default)

    per_currency = {}
    for row in events.filter(kind=MetricEvent.Kind.TRANSFER).values("currency").annotate(
            n=Count("id"), amount=Sum("amount"), amount_jod=Sum("amount_jod"), fee=Sum("fee")).order_by("currency"):
        per_currency[row["currency"]] = {
            "count": row["n"], "amount": money.fmt(row["amount"], row["currency"]),
            "fees": money.fmt(row["fee"], row["currency"]), "amount_jod": money.fmt(row["amount_jod"], "JOD"),
        }
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    transferred = pick(MetricEvent.Kind.TRANSFER, "amount_jod")
    count = pick(MetricEvent.Kind.TRANSFER, "n", 0)
    fee_revenue = pick(MetricEvent.Kind.TRANSFER, "fee_jod")
    return {
        "new_users": User.objects.filter(is_staff=False, date_joined__gte=start, date_joined__lt=end).count(),
        "active_users": _distinct_active(first, last),
        "active_users_7d": _distinct_active(last - dt.timedelta(days=6), last),
        "active_users_30d": _distinct_active(last - dt.timedelta(days=29), last),
        "total_transactions_success": count,
        "total_transactions_failed": pick(MetricEvent.Kind.FAILED, "n", 0),
        "total_transferred_amount": transferred,
        "avg_transaction_value": _quantized_avg(transferred, count),
        "fee_revenue": fee_revenue,
        "net_revenue": fee_revenue - pick(MetricEvent.Kind.REVERSAL, "fee_jod"),
        "bill_payments_count": pick(MetricEvent.Kind.BILL, "n", 0),
        "bill_payments_amount": pick(MetricEvent.Kind.BILL, "amount_jod"),
        "reversals_count": pick(MetricEvent.Kind.REVERSAL, "n", 0),
        "deposits_amount": pick(MetricEvent.Kind.DEPOSIT, "amount_jod"),
        "per_currency": per_currency,
    }


def rollup(day: dt.date) -> DailyBusinessMetrics:
    """(Re)compute one day's row from the raw facts. Idempotent."""
    values = figures(day, day)
    values["rolled_up_at"] = timezone.now()
    row, _ = DailyBusinessMetrics.objects.update_or_create(date=day, defaults=values)
    return row


def _is_final(row: DailyBusinessMetrics) -> bool:
    # A day's row is final once it was rolled up after the day ended (plus a minute for late commits).
    return row.rolled_up_at >= day_bounds(row.date)[1] + dt.timedelta(minutes=1)


def figures_span() -> tuple[dt.date, dt.date] | None:
    """The days whose figures can be anything but zero, or None before anything happened.

    From the first day with a fact, an activity or a sign-up, to the last day whose trailing 30-day
    active-user window still reaches today. Any day outside is all zeros, known without computing it:
    a range of far-off dates (the bounds allow five years anywhere in 2000-2999) costs a few queries.
    """
    from api.models import User

    current = today()
    firsts = [MetricEvent.objects.aggregate(first=Min("day"))["first"],
              DailyActiveUser.objects.aggregate(first=Min("day"))["first"]]
    joined = User.objects.aggregate(first=Min("date_joined"))["first"]
    firsts.append(bank_day(joined) if joined else None)
    known = [day for day in firsts if day is not None]
    if not known:
        return None
    return min(min(known), current), current + dt.timedelta(days=29)


def daily_rows(first: dt.date, last: dt.date) -> list[DailyBusinessMetrics]:
    """Rows for every day of the range. Reads write nothing (v1.3): a closed day's row is the stored one
    (the job worker's schedule stores it once the day closes, business.housekeeping); a day not stored or
    not final yet (today, a gap, a day in a trailing window) is computed, not stored; a day outside
    :func:`figures_span` is a zero row, known without a query.
    """
    span = figures_span()
    existing = {row.date: row for row in DailyBusinessMetrics.objects.filter(date__gte=first, date__lte=last)}
    rows = []
    for day in _days(first, last):
        row = existing.get(day)
        if span is None or not span[0] <= day <= span[1]:
            row = DailyBusinessMetrics(date=day)
        elif row is None or not _is_final(row):
            row = DailyBusinessMetrics(date=day, **figures(day, day))
        rows.append(row)
    return rows


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def today() -> dt.date:
    return bank_day(timezone.now())
