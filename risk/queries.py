"""The risk app's hand-written SQL: the only module of ``risk`` that writes SQL text.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta`` (nexus.sql), a benchmark figure
beside each statement, every statement executed by tests/nexus/test_queries.py.
"""

from api.models import Transaction
from nexus import sql

T = sql.Names(Transaction)

# The velocity rule runs after every outgoing transfer: count and sum per currency of the user's
# outgoing transfers in the window, one grouped statement through the index txn_initiator_created.
# The after-commit reactions (risk rules and the business fact) were 8 % of a transfer's Python
# time with their statements written once; compiling this aggregate per transfer added to that.
RECENT_OUTGOING = (f"SELECT {T.currency}, COUNT(*), SUM({T.amount}) FROM {T.table} "
                   f"WHERE {T.initiated_by} = %s AND {T.kind} = ANY(%s) AND {T.created_at} > %s "
                   f"AND {T.created_at} <= %s GROUP BY {T.currency}")


def recent_outgoing(user_id, since, until) -> list[tuple]:
    """``(currency, count, sum of amounts)`` of the user's outgoing transfers in ``(since, until]``."""
    return sql.fetch(RECENT_OUTGOING, [user_id, [str(kind) for kind in Transaction.OUTGOING_KINDS], since, until])
