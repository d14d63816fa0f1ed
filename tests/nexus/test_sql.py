"""nexus.sql: a list sent as one array text, and rows sent as one recordset text, read back as the same values
in PostgreSQL."""

import datetime as dt
import json
import uuid
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


def _rows_back(rows):
    columns = {"t": "text", "n": "numeric(20, 3)", "at": "timestamptz", "d": "date", "u": "uuid", "b": "text",
               "j": "jsonb"}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.t, r.n, r.at, r.d, r.u, decode(r.b, 'base64'), r.j "  # noqa: S608
                       f"FROM {sql.recordset(columns)}", [sql.records(rows)])
        # Django reads jsonb as its text (JSONField decodes it): decoded here.
        return [(t, n, at, d, u, None if b is None else bytes(b), None if j is None else json.loads(j))
                for t, n, at, d, u, b, j in cursor.fetchall()]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), TEXTS),
    st.one_of(st.none(), st.decimals(min_value=-10**16, max_value=10**16, places=3, allow_nan=False,
                                     allow_infinity=False)),
    st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1),
                                      timezones=st.just(dt.UTC))),
    st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1))),
    st.one_of(st.none(), st.uuids()),
    st.one_of(st.none(), st.binary(max_size=12)),
    st.one_of(st.none(), st.dictionaries(TEXTS, st.one_of(TEXTS, st.integers(-2**53, 2**53), st.booleans()),
                                         max_size=3)),
), max_size=5))
def test_rows_sent_as_one_recordset_read_back_as_themselves(rows):
    """Text of any script, exact decimals, times to the microsecond, dates, UUIDs, bytes and JSON objects."""
    keyed = [dict(zip(("t", "n", "at", "d", "u", "b", "j"), row, strict=True)) for row in rows]
    assert _rows_back(keyed) == rows


def test_a_recordset_refuses_what_it_has_no_text_for():
    assert sql.records([{"u": uuid.UUID(int=1), "b": b"\x00\xff", "n": Decimal("1.500"), "j": {7: "a"}}]) == \
        '[{"u":"00000000-0000-0000-0000-000000000001","b":"AP8=","n":"1.500","j":{"7":"a"}}]'
    for odd in (object(), dt.timedelta(seconds=1)):
        with pytest.raises(TypeError):
            sql.records([{"x": odd}])
