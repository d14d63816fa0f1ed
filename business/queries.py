"""The business app's hand-written SQL: the only module of ``business`` that writes SQL text.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta`` (nexus.sql), a benchmark figure
beside each statement, every statement executed by tests/nexus/test_queries.py. Both run after the
commit of every money movement or login. The after-commit reactions (risk rules and these facts)
were 8 % of a transfer's Python time with the statements written once; the ORM's ``save()`` and
``bulk_create(ignore_conflicts=True)`` compile them again on every call.
"""

from django.db import connection

from nexus import sql

from .models import DailyActiveUser, MetricEvent

D = sql.Names(DailyActiveUser)

MARK_ACTIVE = (f"INSERT INTO {D.table} ({D.day}, {D.user}) VALUES (%s, %s) "
               f"ON CONFLICT ({D.day}, {D.user}) DO NOTHING")


def insert_fact(event: MetricEvent) -> None:
    """One INSERT of the fact row (``nexus.sql.insert``); a duplicate raises IntegrityError."""
    sql.insert(event)


def mark_active(day, user_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(MARK_ACTIVE, [day, user_id])
