"""nexus.pgbackend: a persistent connection is checked (SELECT 1) only when it may have gone stale, its
statements from nexus.sql share one kept cursor, and its timestamps are read by psycopg's own loader, in UTC."""

import datetime as dt
import time
from types import SimpleNamespace

import pytest
from django.db import connections
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.pq import Format

from nexus import pgbackend  # noqa: F401 (the package the settings name as the ENGINE)
from nexus.pgbackend import base

pytestmark = pytest.mark.django_db


connection = connections["default"]


def _checks(monkeypatch) -> list[bool]:
    checks = []
    monkeypatch.setattr(type(connection), "is_usable", lambda self: checks.append(True) or True)
    monkeypatch.setattr(connection, "health_check_enabled", True)
    return checks


def _request_begins():
    connection.health_check_done = False  # what Django does between two requests
    connection.close_if_health_check_failed()


def test_the_settings_use_it():
    assert isinstance(connection, base.DatabaseWrapper)


def test_a_connection_in_steady_use_is_not_checked_an_idle_one_is(monkeypatch):
    connection.ensure_connection()
    checks = _checks(monkeypatch)
    _request_begins()  # a connection never used by a request: checked as Django would
    _request_begins()  # the next request, at once: in steady use
    _request_begins()
    assert checks == [True]
    monkeypatch.setattr(connection, "_began_at", time.monotonic() - base.FRESH_SECONDS - 0.1)
    _request_begins()  # idle for longer than FRESH_SECONDS: a restart may have broken it
    assert checks == [True, True]


def test_timestamps_are_read_by_psycopgs_loader():
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT) is base.UtcTimestamptzLoader
    with connection.cursor() as cursor:
        assert cursor.connection.info.parameter_status("TimeZone") == "UTC"
        cursor.execute("SELECT '2026-12-06 21:55:01.5+02'::timestamptz, NULL::timestamptz")
        moment, nothing = cursor.fetchone()
    assert moment == dt.datetime(2026, 12, 6, 19, 55, 1, 500000, tzinfo=dt.UTC) and moment.tzinfo is dt.UTC
    assert nothing is None


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3)),
                                               dt.timezone(dt.timedelta(hours=-9, minutes=-30))])))
def test_any_moment_reads_back_as_itself_in_utc(moment):
    """The same value and the same tzinfo (``datetime.timezone.utc``) as Django's own loader gives."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, %s::text::timestamptz", [moment, moment.isoformat()])
        sent, parsed = cursor.fetchone()
    assert sent == parsed == moment
    assert sent.tzinfo is parsed.tzinfo is dt.UTC


def test_nexus_sql_runs_its_statements_on_one_cursor_kept_with_the_connection():
    from nexus import sql

    kept = connection.statement_cursor()
    assert sql.fetch("SELECT %s::int", [1]) == [(1,)]
    assert sql.execute("SELECT 2 UNION ALL SELECT 3", []) == 2
    assert sql.fetch("SELECT 'b'", []) == [("b",)]  # each statement's own rows, never the last one's
    assert connection.statement_cursor() is kept


def test_a_new_connection_gets_a_cursor_of_its_own(monkeypatch):
    stale = SimpleNamespace(cursor=SimpleNamespace(connection=object()))  # made on a connection since closed
    monkeypatch.setattr(connection, "_kept_cursor", stale)
    fresh = connection.statement_cursor()
    assert fresh is not stale and fresh.cursor.connection is connection.connection
    assert connection.statement_cursor() is fresh


def test_logged_queries_and_shared_connections_get_fresh_cursors():
    from django.test.utils import CaptureQueriesContext

    from nexus import sql

    kept = connection.statement_cursor()
    with CaptureQueriesContext(connection) as captured:
        assert connection.statement_cursor() is not kept
        sql.fetch("SELECT %s::int AS logged", [7])
    assert "logged" in captured.captured_queries[-1]["sql"]
    connection.inc_thread_sharing()
    try:
        assert connection.statement_cursor() is not kept
    finally:
        connection.dec_thread_sharing()
    assert connection.statement_cursor() is kept


def test_nexus_sql_goes_through_the_kept_cursor(monkeypatch):
    from nexus import sql

    connection.statement_cursor()  # made (or found) and kept
    monkeypatch.setattr(type(connection), "cursor", lambda self: pytest.fail("a new cursor for a statement"))
    assert sql.fetch("SELECT 1", []) == [(1,)]
    assert sql.execute("SELECT 1", []) == 1


def test_closing_or_changing_the_time_zone_drops_the_kept_cursor(monkeypatch):
    """The real close and SET TIME ZONE stubbed: the test's own transaction stays open."""
    monkeypatch.setattr(base.base.DatabaseWrapper, "close", lambda self: None)
    monkeypatch.setattr(base.base.DatabaseWrapper, "ensure_timezone", lambda self: False)
    for drop in (connection.close, connection.ensure_timezone):
        kept = connection.statement_cursor()
        drop()
        assert connection._kept_cursor is None
        assert connection.statement_cursor() is not kept


def test_the_loader_reads_through_its_class_too():
    connection.ensure_connection()
    loader = base.UtcTimestamptzLoader(base.TIMESTAMPTZ_OID, connection.connection)
    assert base.UtcTimestamptzLoader.load(loader, b"2026-12-06 19:55:01+00") == dt.datetime(2026, 12, 6, 19, 55, 1,
                                                                                              tzinfo=dt.UTC)
