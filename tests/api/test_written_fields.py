"""The API's own fast paths for what DRF's fields write give DRF's very text (api.serializers.fields, api.money)."""

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from api import money
from api.serializers.fields import DATETIME

DRF_DATETIME = serializers.DateTimeField(default_timezone=dt.UTC)
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3)), zoneinfo.ZoneInfo("Asia/Amman"), None])


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=ZONES))
def test_a_timestamp_is_written_as_drf_writes_it(moment):
    """UTC values take the short path; any other (another zone, naive) DRF's own, with the same result."""
    assert DATETIME.to_representation(moment) == DRF_DATETIME.to_representation(moment)


@given(st.sampled_from(money.CURRENCIES),
       st.decimals(min_value=-10**16, max_value=10**16, places=6, allow_nan=False, allow_infinity=False))
def test_an_amount_is_written_at_its_minor_unit_half_up(currency, amount):
    places = money.MINOR_UNITS[currency]
    assert money.exponent(currency) == Decimal(1).scaleb(-places)
    assert money.fmt(amount, currency) == str(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    assert money.fmt(None, currency) is None
