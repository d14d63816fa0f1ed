"""The risk app's hand-written SQL: the only module of ``risk`` that writes SQL text.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta`` (nexus.sql), a benchmark figure
beside each statement, every statement executed by tests/nexus/test_queries.py.
"""

from api.models import Transaction
from nexus import sql

from .models import Incident

T = sql.Names(Transaction)
N = sql.Names(Incident)

# The velocity rule runs after every outgoing transfer: count and sum per currency of the user's
# outgoing transfers in the window, one grouped statement through the index txn_initiator_created.
# The after-commit reactions (risk rules and the business fact) were 8 % of a transfer's Python
# time with their statements written once; compiling this aggregate per transfer added to that.
# Nothing when the rule's incident for this user already stands in the window (the NOT EXISTS is
# planned as a one-time filter through index incident_rule_subject, so the aggregate is skipped):
# a user sending fast, the one this rule catches, has a window of thousands of transfers to add up
# on every transfer. Deciding that in the database, not in a per-process memo, keeps every worker
# in agreement and re-arms the rule as soon as its window is over. A/B, hot-pair scenario
# (3 alternating runs of 10 s, medians): 145 ok/s (83 per CPU-second) aggregating every time, 167
# (101) with the filter.
RECENT_OUTGOING = (f"SELECT {T.currency}, COUNT(*), SUM({T.amount}) FROM {T.table} "
                   f"WHERE {T.initiated_by} = %s AND {T.kind} = ANY(%s) AND {T.created_at} > %s "
                   f"AND {T.created_at} <= %s AND NOT EXISTS (SELECT 1 FROM {N.table} WHERE {N.code} = %s "
                   f"AND {N.subject} = %s AND {N.timestamp} > %s) GROUP BY {T.currency}")


def recent_outgoing(user_id, since, until, *, unless: tuple[str, str]) -> list[tuple]:
    """``(currency, count, sum of amounts)`` of the user's outgoing transfers in ``(since, until]``;
    nothing while an incident of rule and subject ``unless`` stands since ``since``."""
    return sql.fetch(RECENT_OUTGOING, [user_id, [str(kind) for kind in Transaction.OUTGOING_KINDS], since, until,
                                       *unless, since])
