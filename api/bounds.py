"""Bounds on every amount and every date the bank takes in (contract v1.1): one check each.

The checks are plain Django validators, so the same function guards a request body (DRF field),
a list filter (django-filter), a model field staff edit in the admin, and a management command:

- an amount is at most ``MAX_AMOUNT`` in its currency;
- a date or date-time lies in the years 2000-2999 as written, with a UTC offset that exists on
  Earth (at most +-14:00). A date-time is handed on in UTC, so no offset ever reaches PostgreSQL
  and no date arithmetic (a day's end, a bank-local midnight) can leave Python's range.

Query parameters are validated before anything is looked up, so a refused date is a 400 whoever
owns the object the request names. The request layer's fields are built on these rules: DRF's in
``api.serializers.fields`` (``DateField``, ``DateTimeField``), django-filter's in ``api.filters``. This
module imports neither (import-linter: nothing below the views imports DRF).
"""

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

MAX_AMOUNT = Decimal("1000000000")
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2999, 12, 31)
MAX_UTC_OFFSET = dt.timedelta(hours=14)  # Kiribati; Python would take up to 23:59, PostgreSQL 15:59

# What is accepted, exactly: RFC 3339 full-date, and date-time with seconds and an offset (the
# contract's timestamps). Python's own ISO parsers take more (week dates, "20260131", no offset).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})")

# The same shapes for the OpenAPI schema, the years narrowed to 2xxx, so a fuzzer's dates reach
# the views' logic; whatever they still let through (2026-02-30, +14:30) is refused with a 400.
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}$",
               "example": "2026-01-31", "description": "YYYY-MM-DD, years 2000-2999"}
DATETIME_SCHEMA = {
    "type": "string", "format": "date-time",
    "pattern": r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-9]{2})$",
    "example": "2026-01-31T09:30:00+03:00",
    "description": "RFC 3339 with seconds and a UTC offset (at most +-14:00), years 2000-2999",
}
# A positive decimal string of at most MAX_AMOUNT: at most 10 digits before the point and 3 after.
AMOUNT_PATTERN = r"^(0?[0-9]{1,9}(\.[0-9]{1,3})?|1000000000(\.0{1,3})?)$"
AMOUNT_INTEGER_DIGITS = 10


def validate_amount(value: Decimal) -> None:
    if value > MAX_AMOUNT:
        raise ValidationError(f"At most {MAX_AMOUNT}.", code="max_value")


def validate_date(value: dt.date) -> None:
    """A date, or a date-time as written, in the years 2000-2999; a date-time's offset at most 14 h."""
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError("UTC offset out of range (at most +-14:00).", code="invalid")
        value = value.date()
    if not EARLIEST <= value <= LATEST:
        raise ValidationError(f"Must be between {EARLIEST} and {LATEST}.", code="out_of_range")


def parse_date(text) -> dt.date:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise ValidationError("A date as YYYY-MM-DD.", code="invalid")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError("Not a calendar date.", code="invalid") from exc
    validate_date(day)
    return day


def parse_datetime(text) -> dt.datetime:
    """An RFC 3339 date-time within the bounds, returned in UTC."""
    if not isinstance(text, str) or not _DATETIME.fullmatch(text):
        raise ValidationError("A date-time as YYYY-MM-DDTHH:MM:SS with a UTC offset (Z or +HH:MM).", code="invalid")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError("Not a calendar date-time.", code="invalid") from exc
    validate_date(moment)
    return moment.astimezone(dt.UTC)


# --- Django form fields (list filters, admin forms) -------------------------------------------------------------

class FormDateField(forms.DateField):
    def to_python(self, value):
        return None if value in self.empty_values else parse_date(value)


class FormDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        return None if value in self.empty_values else parse_datetime(value)
