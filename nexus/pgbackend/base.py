"""Django's PostgreSQL backend, checking a persistent connection only when it may have gone stale.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request: a round
trip on every request, a tenth of a read's CPU on the benchmark machine (bench/README.md). Here the check
is made only on a connection whose last request began more than :data:`FRESH_SECONDS` ago: an idle
connection, the one a database restart or failover may have broken while nobody used it. A connection in
steady use is not checked; if the database goes away under it, the query fails (503), Django closes the
connection at the end of that request (it had an error), and the next request connects afresh.

A statement run through ``nexus.sql`` (``fetch``, ``execute``, ``insert``: every statement the apps write
themselves, the hot paths' all) uses one cursor kept with the connection (``statement_cursor``): psycopg
builds a new cursor's adapters, dumpers and loaders anew, 30-40 us of every statement; its rows are read
before anything else runs on the connection, so no two statements share it.

And every ``timestamptz`` a query returns is read by psycopg's own loader (compiled, in psycopg's
binary package) when the connection's time zone is UTC, as it always is with ``USE_TZ`` and no
database ``TIME_ZONE``: Django's loader re-parses each value in Python to attach the same
``datetime.timezone.utc`` (4.4 -> 0.3 us a value; a statement page reads one per line).
"""

import datetime
import functools
import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from django.utils.asyncio import async_unsafe
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.postgres.types["timestamptz"].oid


_PSYCOPG_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)  # compiled: not subclassable


class UtcTimestamptzLoader(Loader):
    """psycopg's own ``timestamptz`` loader (its compiled one when installed): a value in a session whose
    ``TimeZone`` is UTC comes back with ``datetime.timezone.utc``, which is what Django's loader attaches.
    ``timezone`` is what Django's ``create_cursor`` compares with the connection's."""

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._psycopg = _PSYCOPG_LOADER(oid, context)
        self.load = self._psycopg.load  # what psycopg calls for each value: no Python frame in between

    def load(self, data):  # the class's own, for a caller that looks it up on the class
        return self._psycopg.load(data)


@functools.lru_cache
def _utc_adapters() -> AdaptersMap:
    adapters = AdaptersMap(get_adapters_template(True, datetime.UTC))
    adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return adapters

FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _began_at: float | None = None  # when the last request first used this connection (monotonic)
    _kept_cursor = None  # statement_cursor()'s, for the psycopg connection it was made on

    @async_unsafe
    def statement_cursor(self):
        """A cursor for one statement whose rows are read at once, before any other statement runs
        (``nexus.sql``), kept for the life of the connection and never closed by its user. A new one
        when Django logs queries (its debug cursor, so ``assertNumQueries`` and the like see the
        statement) or when the connection is shared between threads (a test's live server). An
        ``execute_wrapper`` must not itself run a statement through ``nexus.sql`` after the wrapped
        one: it would replace the rows the caller is about to read."""
        if self.queries_logged or self.allow_thread_sharing:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        kept = self._kept_cursor
        if kept is None or kept.cursor.connection is not self.connection:
            kept = self._kept_cursor = self.cursor()
        else:
            self.validate_thread_sharing()
        return kept

    def close(self):
        self._kept_cursor = None
        super().close()

    def ensure_timezone(self):
        self._kept_cursor = None  # its loaders were chosen for the time zone being changed
        return super().ensure_timezone()

    def get_connection_params(self):
        params = super().get_connection_params()
        # Django sets the session's TimeZone to the connection's (UTC here) before any query.
        if settings.USE_TZ and self.timezone is datetime.UTC and self.timezone_name == "UTC":
            params["context"] = _utc_adapters()
        return params

    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        now, began = time.monotonic(), self._began_at
        self._began_at = now
        if began is not None and now - began < FRESH_SECONDS:
            self.health_check_done = True  # in steady use: nothing to find
            return
        super().close_if_health_check_failed()

    def connect(self):
        super().connect()
        self._began_at = None  # a new connection: the next request checks it as Django would
