"""What may be lost in a crash or a failover lives in UNLOGGED tables, and none of them has a sequence:
an unlogged table's sequence is unlogged too, and a standby promoted by Patroni could not read it
("bad magic number in sequence": 500s on every keyed money request after a failover)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

UNLOGGED = {"nexus_ratelimitwindow": "throttle counters", "api_idempotencybody": "bodies kept for replays"}


def test_the_unlogged_tables_are_these_and_none_has_a_sequence():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, relkind FROM pg_class WHERE relpersistence = 'u' "
                       "AND relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'S')")
        rows = cursor.fetchall()
    assert {name for name, kind in rows if kind == "r"} == set(UNLOGGED)
    assert [name for name, kind in rows if kind == "S"] == []
