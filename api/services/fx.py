"""FX rates: the history table (staff publish rates; a published rate is never edited).

The rates are reference data (nexus.refcache): a process re-reads the history when the reference
version moved (publishing a rate moves it), so a published rate applies to every request that starts
after it was answered, on every worker and node, and a transfer records the rate it used. Transfers, bills, quotes, the dual-control threshold, the velocity rule
and the business figures all read rates here. The table is seeded by a data migration with the
contract's rates; a currency without a rate is a deployment error, never silently defaulted.
"""

import bisect
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from nexus.refcache import cached

from .. import exceptions, money
from ..models import FX_RATE_TAKEN, FxRate
from .audit import Action, audit

QUOTED = tuple(currency for currency in money.CURRENCIES if currency != money.BASE_CURRENCY)


def _history() -> dict[str, tuple[list[datetime], list[Decimal]]]:
    history: dict[str, tuple[list, list]] = {}
    for currency, rate, effective in FxRate.objects.order_by("currency", "effective_from").values_list(
            "currency", "rate", "effective_from"):
        times, rates = history.setdefault(currency, ([], []))
        times.append(effective)
        rates.append(rate)
    return history


def rates_with_time(moment: datetime) -> tuple[dict[str, Decimal], datetime | None]:
    """Units of each currency per JOD in effect at ``moment``, and when the newest of them took effect."""
    rates, as_of = {}, None
    for currency, (times, values) in cached("fx_history", _history).items():
        index = bisect.bisect_right(times, moment) - 1
        if index >= 0:
            rates[currency] = values[index]
            as_of = max(as_of, times[index]) if as_of else times[index]
    missing = set(QUOTED) - set(rates)
    if missing:
        raise ImproperlyConfigured(f"No FX rate in effect for {', '.join(sorted(missing))} at {moment.isoformat()}.")
    return rates, as_of


def rates_at(moment: datetime) -> dict[str, Decimal]:
    return rates_with_time(moment)[0]


def current_rates() -> tuple[dict[str, Decimal], datetime | None]:
    """The rates in effect now (units per 1 JOD), and when the newest took effect."""
    return rates_with_time(timezone.now())


def quote(amount: Decimal, source: str, target: str) -> tuple[Decimal, Decimal | None]:
    """What ``amount`` of ``source`` credits in ``target`` at the current rates (rounded down, money.convert),
    and the cross rate used (None without a conversion). Transfers and ``GET /fx/quote/`` alike.

    Raises AmountTooSmall when nothing would be credited.
    """
    if source == target:
        return amount, None
    rates, _ = current_rates()
    credited = money.convert(amount, source, target, rates)
    if not credited:
        raise exceptions.AmountTooSmall(details={"amount": money.fmt(amount, source), "currency": target})
    return credited, money.cross_rate(source, target, rates)


def price(amount: Decimal, paid_in: str, priced_in: str) -> tuple[Decimal, Decimal | None]:
    """What paying ``amount`` of ``priced_in`` (a bill's price) debits in ``paid_in``: the conversion
    inverted and rounded up (money.cost), so the payee receives the whole price; and the cross rate.

    Raises AmountTooSmall when the price is worth less than one minor unit of ``paid_in``, as a
    transfer of it would credit nothing.
    """
    if paid_in == priced_in:
        return amount, None
    rates, _ = current_rates()
    if not money.convert(amount, priced_in, paid_in, rates):
        raise exceptions.AmountTooSmall(details={"amount": money.fmt(amount, priced_in), "currency": paid_in})
    return money.cost(amount, paid_in, priced_in, rates), money.cross_rate(paid_in, priced_in, rates)


@transaction.atomic
def fx_rate_publish(*, actor, currency: str, rate: Decimal, effective_from: datetime | None = None) -> FxRate:
    """A new rate for ``currency`` (history is kept: a published rate is never edited); audited."""
    previous = current_rates()[0].get(currency)
    try:
        with transaction.atomic():  # a savepoint: the refusal leaves the caller's transaction usable
            published = FxRate.objects.create(currency=currency, rate=rate, created_by=actor,
                                              effective_from=effective_from or timezone.now())
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != "fxrate_one_per_moment":
            raise
        # Another rate of this currency from that very moment (the admin's form says so before; this is a race).
        raise exceptions.InvalidInput(f"effective_from: {FX_RATE_TAKEN}", details={"effective_from": [FX_RATE_TAKEN]}) from exc
    audit(actor=actor, action=Action.FX_RATE_CHANGE, object_type="fx_rate", object_id=currency, changes={
        "rate": [previous, published.rate], "effective_from": [None, published.effective_from.isoformat()],
    })
    return published
