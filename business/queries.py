"""The business app's hand-written SQL: the only module of ``business`` that writes SQL text.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta`` (nexus.sql), a benchmark figure
beside each statement, every statement executed by tests/nexus/test_queries.py. Both run after the
commit of every money movement or login. The after-commit reactions (risk rules and these facts)
were 8 % of a transfer's Python time with the statements written once; the ORM's ``save()`` and
``bulk_create(ignore_conflicts=True)`` compile them again on every call.
"""

from functools import cache

from nexus import sql

from .models import DailyActiveUser, MetricEvent

D = sql.Names(DailyActiveUser)

MARK_ACTIVE = (f"INSERT INTO {D.table} ({D.day}, {D.user}) VALUES (%s, %s) "
               f"ON CONFLICT ({D.day}, {D.user}) DO NOTHING")


FACT_FIELDS = ("kind", "day", "occurred_at", "transaction_id", "user_id", "currency", "amount", "amount_jod", "fee",
               "fee_jod")


@cache
def _facts_statement() -> str:
    columns, rows = sql.model_recordset(MetricEvent, FACT_FIELDS)
    return (f"INSERT INTO {sql.table(MetricEvent)} ({columns}) SELECT r.* FROM {rows} "
            f"ON CONFLICT ({sql.column(MetricEvent, 'transaction_id')}) DO NOTHING")


def insert_facts(events: list[MetricEvent]) -> None:
    """The facts of a batch of movements in one INSERT of one text (a recordset, nexus.sql); a fact
    already there for a transaction is kept (the job worker's batch: ``bulk_create`` compiled a new
    INSERT of N rows for every batch)."""
    if events:
        sql.execute(_facts_statement(), [sql.model_records(events, FACT_FIELDS)])


def mark_active(day, user_id) -> None:
    sql.execute(MARK_ACTIVE, [day, user_id])
