"""Currencies, minor units, quantization and FX conversion. Pure: no ORM, no floats."""

import re
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units.
MINOR_UNITS = {"JOD": 3, "USD": 2, "EUR": 2}
BASE_CURRENCY = "JOD"
CURRENCIES = tuple(MINOR_UNITS)
RATE_PLACES = Decimal("0.000001")
_DECIMAL = re.compile(r"(?P<sign>-?)[0-9]+(?:\.[0-9]+)?")


class MoneyError(ValueError):
    pass


def exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


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


def to_base(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal:
    """X -> JOD: amount / rate, half-up to 3 decimals."""
    if currency == BASE_CURRENCY:
        return quantize(amount, BASE_CURRENCY)
    return quantize(amount / rates[currency], BASE_CURRENCY)


def from_base(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal:
    """JOD -> X: amount * rate, half-up to X's minor unit."""
    if currency == BASE_CURRENCY:
        return quantize(amount, BASE_CURRENCY)
    return quantize(amount * rates[currency], currency)


def convert(amount: Decimal, source: str, target: str, rates: dict[str, Decimal]) -> Decimal:
    """Convert as the contract says: JOD->X multiplies, X->JOD divides, X->Y goes through JOD (3 dp)."""
    if source == target:
        return quantize(amount, target)
    return from_base(to_base(amount, source, rates), target, rates)


def cross_rate(source: str, target: str, rates: dict[str, Decimal]) -> Decimal | None:
    """Units of ``target`` per unit of ``source`` (informational; conversion uses :func:`convert`)."""
    if source == target:
        return None
    per_jod = {BASE_CURRENCY: Decimal(1), **rates}
    return (per_jod[target] / per_jod[source]).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
