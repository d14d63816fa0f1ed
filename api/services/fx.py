"""Current FX rates from the history table."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from ..models import FxRate

DEFAULT_RATES = {"USD": Decimal("1.41"), "EUR": Decimal("1.31")}


def current_rates() -> tuple[dict[str, Decimal], datetime | None]:
    """Latest effective rate per currency (units per 1 JOD), and when the newest took effect. One query."""
    rows = (
        FxRate.objects.filter(effective_from__lte=timezone.now())
        .order_by("currency", "-effective_from")
        .distinct("currency")
        .values_list("currency", "rate", "effective_from")
    )
    rates = dict(DEFAULT_RATES)
    as_of = None
    for currency, rate, effective in rows:
        rates[currency] = rate
        as_of = max(as_of, effective) if as_of else effective
    return rates, as_of
