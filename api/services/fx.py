"""Current FX rates from the history table."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ..models import FxRate
from .audit import Action, audit

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


@transaction.atomic
def fx_rate_publish(*, actor, currency: str, rate: Decimal, effective_from: datetime | None = None) -> FxRate:
    """A new rate for ``currency`` (history is kept: a published rate is never edited); audited."""
    previous = current_rates()[0].get(currency)
    published = FxRate.objects.create(currency=currency, rate=rate, created_by=actor,
                                      effective_from=effective_from or timezone.now())
    audit(actor=actor, action=Action.FX_RATE_CHANGE, object_type="fx_rate", object_id=currency, changes={
        "rate": [previous, published.rate], "effective_from": [None, published.effective_from.isoformat()],
    })
    return published
