"""Django's PostgreSQL backend, checking a persistent connection only when it may have gone stale.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request: a round
trip on every request, a tenth of a read's CPU on the benchmark machine (bench/README.md). Here the check
is made only on a connection whose last request began more than :data:`FRESH_SECONDS` ago: an idle
connection, the one a database restart or failover may have broken while nobody used it. A connection in
steady use is not checked; if the database goes away under it, the query fails (503), Django closes the
connection at the end of that request (it had an error), and the next request connects afresh.
"""

import time

from django.db.backends.postgresql import base

FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _began_at: float | None = None  # when the last request first used this connection (monotonic)

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
