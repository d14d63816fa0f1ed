"""nexus.sql: a list sent as one array text reads back as the same values in PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from nexus import sql

pytestmark = pytest.mark.django_db

# PostgreSQL's text cannot hold NUL; anything else can, quotes, backslashes, braces, commas and "NULL" included.
TEXTS = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20)


def _read_back(values, kind: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{kind}[]", [sql.array(values)])
        return cursor.fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXTS, st.sampled_from(["NULL", "null", '"', "\\", "{}", "a,b", " x "])),
                max_size=8))
def test_any_text_reads_back_as_itself(values):
    assert _read_back(values, "text") == values


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.decimals(min_value=-10**16, max_value=10**16, places=3,
                                                  allow_nan=False, allow_infinity=False)), max_size=6))
def test_exact_decimals_read_back_exactly(values):
    assert _read_back(values, "numeric(20, 3)") == values


def test_dates_times_and_the_empty_list():
    moment = dt.datetime(2026, 12, 6, 17, 30, 15, 123456, tzinfo=dt.UTC)
    assert _read_back([dt.date(2026, 2, 28), None], "date") == [dt.date(2026, 2, 28), None]
    assert _read_back([moment], "timestamptz") == [moment]
    assert _read_back([], "text") == []
    assert sql.array([Decimal("1.500"), None, "J\"O\\D"]) == '{"1.500",NULL,"J\\"O\\\\D"}'


def test_choices_are_their_values_and_other_types_are_refused():
    from api.models import Account, LedgerEntry

    assert sql.array([LedgerEntry.Purpose.FEE, True, 7]) == '{"fee","true","7"}'
    assert _read_back([Account.Role.CUSTOMER], "text") == ["customer"]
    for odd in (b"bytes", 1.5, object()):
        with pytest.raises(TypeError):
            sql.array([odd])
