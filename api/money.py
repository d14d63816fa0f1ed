"""Currencies, minor units, quantization and FX conversion. Pure: no ORM, no floats.

Conversions round down (toward zero, contract v1.1): whatever the route, what is credited is never
worth more at the bank's rates than what was debited, so no sequence of conversions creates money.
The price of a given target amount (:func:`cost`) is the inverse, rounded up, for the same reason.
"""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal

# ISO 4217 minor units.
MINOR_UNITS = {"JOD": 3, "USD": 2, "EUR": 2}
BASE_CURRENCY = "JOD"
CURRENCIES = tuple(MINOR_UNITS)
RATE_PLACES = Decimal("0.000001")
_DECIMAL = re.compile(r"(?P<sign>-?)[0-9]+(?:\.[0-9]+)?")


class MoneyError(ValueError):
    pass


_EXPONENTS = {currency: Decimal(1).scaleb(-places) for currency, places in MINOR_UNITS.items()}


def exponent(currency: str) -> Decimal:
    """The currency's minor unit, e.g. ``Decimal("0.001")`` for JOD."""
    return _EXPONENTS[currency]


def quantize(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the currency's minor unit (half-up unless told otherwise)."""
    return amount.quantize(exponent(currency), rounding=rounding)


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more decimals than the currency allows."""
    return amount == amount.quantize(exponent(currency))


def parse_amount(value) -> Decimal:
    """Parse a client amount: a plain decimal string, finite, positive. No JSON numbers, no exponents.

    JSON numbers are refused, integers included: the contract carries money as strings only, and a
    client that sends ``10`` today would send ``10.1`` (a binary float) tomorrow.
    """
    if not isinstance(value, str):
        raise MoneyError("Send the amount as a decimal string, e.g. \"100.50\".")
    # ASCII digits only: no exponent, NaN/Infinity, sign, blanks or other scripts' digits.
    match = _DECIMAL.fullmatch(value)
    if match is None:
        raise MoneyError("Not a decimal number.")
    if match.group("sign"):
        raise MoneyError("The amount must be greater than zero.")
    amount = Decimal(value)
    if amount <= 0:
        raise MoneyError("The amount must be greater than zero.")
    return amount


def fmt(amount: Decimal | None, currency: str) -> str | None:
    """The contract's representation: a string with exactly the currency's minor units."""
    if amount is None:
        return None
    return str(quantize(Decimal(amount), currency))


# Products and quotients are taken with 60 digits: amounts fit 20 (the columns) and rates 12, so a
# product is exact and a quotient that is not itself a multiple of the minor unit stays more than
# 1e-32 (relative) away from one. The context's own rounding can therefore never carry a value
# across a minor unit before ROUND_DOWN or ROUND_UP decides (28 digits could, for column-size sums).
_EXACT = Context(prec=60)

def to_base(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal:
    """X -> JOD: amount / rate, rounded down to 3 decimals."""
    if currency == BASE_CURRENCY:
        return quantize(amount, BASE_CURRENCY, ROUND_DOWN)
    return quantize(_EXACT.divide(amount, rates[currency]), BASE_CURRENCY, ROUND_DOWN)


def from_base(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal:
    """JOD -> X: amount * rate, rounded down to X's minor unit."""
    if currency == BASE_CURRENCY:
        return quantize(amount, BASE_CURRENCY, ROUND_DOWN)
    return quantize(_EXACT.multiply(amount, rates[currency]), currency, ROUND_DOWN)


def convert(amount: Decimal, source: str, target: str, rates: dict[str, Decimal]) -> Decimal:
    """What ``amount`` of ``source`` credits in ``target``: JOD->X multiplies, X->JOD divides, X->Y goes
    through JOD (3 decimals); every step rounds down. May be zero: callers refuse that."""
    if source == target:
        return quantize(amount, target, ROUND_DOWN)
    return from_base(to_base(amount, source, rates), target, rates)


def cost(amount: Decimal, source: str, target: str, rates: dict[str, Decimal]) -> Decimal:
    """The least amount of ``source`` that :func:`convert` turns into at least ``amount`` of ``target``.

    Each step of the route inverted and rounded up: JOD needed for the target, then source needed
    for that JOD. Used where the credited side is fixed (a bill in the biller's currency).
    """
    if source == target:
        return amount
    jod = amount
    if target != BASE_CURRENCY:
        jod = quantize(_EXACT.divide(amount, rates[target]), BASE_CURRENCY, ROUND_UP)
    if source == BASE_CURRENCY:
        return jod
    return quantize(_EXACT.multiply(jod, rates[source]), source, ROUND_UP)


def cross_rate(source: str, target: str, rates: dict[str, Decimal]) -> Decimal | None:
    """Units of ``target`` per unit of ``source`` (informational; conversion uses :func:`convert`)."""
    if source == target:
        return None
    per_jod = {BASE_CURRENCY: Decimal(1), **rates}
    return (per_jod[target] / per_jod[source]).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def inverse_rate(rate: Decimal | None) -> Decimal | None:
    """The rate of the opposite direction (a reversal's), to the same 6 decimals."""
    if rate is None:
        return None
    return (Decimal(1) / rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
