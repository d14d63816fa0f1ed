"""The ground layer's hand-written SQL: the throttle counter (nexus.throttles), the migration lock.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta``, a benchmark figure beside each
statement, every statement executed by tests/nexus/test_queries.py.
"""

from . import sql
from .models import RateLimitWindow

W = sql.Names(RateLimitWindow)

# Every API request counts itself once: one atomic upsert returning the window's count, where
# DRF's cache throttle reads and rewrites a list of timestamps (two round trips, not atomic across
# workers). The ORM has no single-statement equivalent (update_or_create is two statements and a
# savepoint). Counted in the benchmark's "throttle upsert" round trip, one of a read's four.
HIT = (f"INSERT INTO {W.table} ({W.key}, {W.window_start}, {W.hits}) VALUES (%s, %s, 1) "
       f"ON CONFLICT ({W.key}) DO UPDATE SET "
       f"{W.hits} = CASE WHEN {W.table}.{W.window_start} = EXCLUDED.{W.window_start} "
       f"THEN {W.table}.{W.hits} + 1 ELSE 1 END, {W.window_start} = EXCLUDED.{W.window_start} "
       f"RETURNING {W.hits}")


def hit(key: str, window_start: int) -> int:
    return sql.fetch(HIT, [key, window_start])[0][0]


def purge(before: int) -> None:
    """Housekeeping: windows that ended long ago (ORM: one DELETE)."""
    RateLimitWindow.objects.filter(window_start__lt=before).delete()



# --- the migration lock (manage.py migrate_locked) ---------------------------------------------
# PostgreSQL's advisory locks have no ORM equivalent. Not on a request's path: no figure to give.

def advisory_lock(connection, key: int, timeout_seconds: int) -> None:
    """Wait (at most ``timeout_seconds``) for the session-level advisory lock ``key``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{timeout_seconds}s"])
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        cursor.execute("SELECT set_config('lock_timeout', '0', false)")


def advisory_unlock(connection, key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
