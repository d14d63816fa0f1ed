"""The ground layer's hand-written SQL: the throttle counter (nexus.throttles), publishing to the
PostgreSQL channel layer (nexus.realtime), the migration lock.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta``, a benchmark figure beside each
statement, every statement executed by tests/nexus/test_queries.py.
"""

from channels_postgres.models import GroupChannel, Message
from django.db import DEFAULT_DB_ALIAS

from . import sql
from .models import Job, RateLimitWindow, ReferenceVersion

W = sql.Names(RateLimitWindow)
CM, CG = sql.Names(Message), sql.Names(GroupChannel)

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
    """Housekeeping (the job worker's schedule, nexus.housekeeping): windows that ended long ago (ORM: one
    DELETE), on the primary by name."""
    RateLimitWindow.objects.using(DEFAULT_DB_ALIAS).filter(window_start__lt=before).delete()



# Publishing to the PostgreSQL channel layer from synchronous code: each message is inserted once per
# live socket of its group, in order, in one round trip whether or not anyone listens (the usual case
# on the money path). The ORM needed a look-up of the group's sockets per message, then an insert.
# The messages travel as one recordset parameter (nexus.sql.recordset): one text for any number of
# them. api.queries runs it inside the statement that writes the notifications (figures there).

PUBLISH = (f"INSERT INTO {CM.table} ({CM.channel}, {CM.message}, {CM.expire}) "
           f"SELECT DISTINCT ON (v.position, g.{CG.channel}) g.{CG.channel}, decode(v.message, 'base64'), "
           f"%s::timestamptz FROM {sql.recordset({'group_key': 'text', 'message': 'text', 'position': 'int'}, 'v')} "
           f"JOIN {CG.table} g ON g.{CG.group_key} = v.group_key AND g.{CG.expire} > %s::timestamptz "
           f"ORDER BY v.position, g.{CG.channel}")


def publish_parameters(group_keys: list[str], messages: list[bytes], *, expire, now) -> list:
    """The parameters of ``PUBLISH``."""
    return [expire, sql.records([{"group_key": key, "message": message, "position": position}
                                 for position, (key, message) in enumerate(zip(group_keys, messages, strict=True))]),
            now]


def publish(parameters: list) -> None:
    """Run ``PUBLISH`` with ``publish_parameters(...)``."""
    sql.execute(PUBLISH, parameters)


# --- the job queue (nexus.jobs) ---------------------------------------------------------------
# The worker's batch is taken and deleted in one statement at the start of the transaction that carries
# it out: committed, the jobs are done; rolled back (a failing job, a dying worker), they are waiting
# again. SKIP LOCKED: workers never take the same row. The ORM needed a SELECT ... FOR UPDATE, then a
# DELETE compiled anew for every batch (through the deletion collector).
J = sql.Names(Job)
JOB_FIELDS, _JOB_COLUMNS = sql.select_list(Job)
TAKE_JOBS = (f"DELETE FROM {J.table} WHERE {J.id} IN (SELECT {J.id} FROM {J.table} WHERE {J.failed_at} IS NULL "
             f"AND {J.available_at} <= %s ORDER BY {J.id} LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {_JOB_COLUMNS}")


def take_jobs(now, limit: int) -> list[Job]:
    """Up to ``limit`` waiting jobs, oldest first, deleted in the caller's transaction."""
    return sorted(sql.instances(Job, JOB_FIELDS, sql.fetch(TAKE_JOBS, [now, limit])), key=lambda job: job.pk)


# --- the reference data version (nexus.refcache) ---------------------------------------------------
# Read once per request that uses reference data: one primary-key read of a one-row table, written
# once so psycopg prepares it (the ORM compiled ``.values_list().get()`` on every request).
REFERENCE_VERSION = (f"SELECT {sql.column(ReferenceVersion, 'version')} FROM {sql.table(ReferenceVersion)} "
                     f"WHERE {sql.column(ReferenceVersion, 'id')} = 1")


def reference_version() -> int:
    rows = sql.fetch(REFERENCE_VERSION, [])
    return rows[0][0] if rows else 0


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

