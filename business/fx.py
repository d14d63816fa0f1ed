"""JOD equivalents of amounts, at the rate a transaction used (pure rules + a rate-history lookup)."""

import bisect
import time
from datetime import datetime
from decimal import Decimal

from api import money
from api.services.fx import DEFAULT_RATES

HISTORY_TTL_SECONDS = 30
_history: tuple[float, dict[str, tuple[list, list]]] | None = None


def _load_history() -> dict[str, tuple[list, list]]:
    from api.models import FxRate

    history: dict[str, tuple[list, list]] = {}
    for currency, rate, effective in FxRate.objects.order_by("currency", "effective_from").values_list(
            "currency", "rate", "effective_from"):
        times, rates = history.setdefault(currency, ([], []))
        times.append(effective)
        rates.append(rate)
    return history


def rates_at(moment: datetime, *, fresh: bool = False) -> dict[str, Decimal]:
    """Rates (units per JOD) in effect at ``moment``; history cached per process for a few seconds."""
    global _history
    now = time.monotonic()
    if fresh or _history is None or now - _history[0] > HISTORY_TTL_SECONDS:
        _history = (now, _load_history())
    rates = dict(DEFAULT_RATES)
    for currency, (times, values) in _history[1].items():
        index = bisect.bisect_right(times, moment) - 1
        if index >= 0:
            rates[currency] = values[index]
    return rates


def forget() -> None:
    global _history
    _history = None


def jod_value(amount: Decimal, currency: str, *, credited_amount=None, credited_currency=None, at=None,
              fresh: bool = False) -> Decimal:
    """The JOD equivalent of a movement, as the transfer itself converted it.

    JOD amounts are themselves; a transfer credited in JOD is worth what it credited; any other
    amount is converted at the rate in effect when it happened, by the same rule as a transfer
    (X -> JOD, rounded down to 3 dp), so a figure never credits more than the movement could have.
    """
    if currency == money.BASE_CURRENCY:
        return money.quantize(amount, money.BASE_CURRENCY)
    if credited_currency == money.BASE_CURRENCY and credited_amount is not None:
        return money.quantize(credited_amount, money.BASE_CURRENCY)
    return money.to_base(amount, currency, rates_at(at, fresh=fresh))
