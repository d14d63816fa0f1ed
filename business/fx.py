"""JOD equivalents of amounts, at the rate a transaction used (pure rules + a rate-history lookup)."""

from decimal import Decimal

from api import money
from api.services.fx import rates_at


def jod_value(amount: Decimal, currency: str, *, credited_amount=None, credited_currency=None, at=None) -> Decimal:
    """The JOD equivalent of a movement, as the transfer itself converted it.

    JOD amounts are themselves; a transfer credited in JOD is worth what it credited; any other
    amount is converted at the rate in effect when it happened, by the same rule as a transfer
    (X -> JOD, rounded down to 3 dp), so a figure never credits more than the movement could have.
    """
    if currency == money.BASE_CURRENCY:
        return money.quantize(amount, money.BASE_CURRENCY)
    if credited_currency == money.BASE_CURRENCY and credited_amount is not None:
        return money.quantize(credited_amount, money.BASE_CURRENCY)
    return money.to_base(amount, currency, rates_at(at))
