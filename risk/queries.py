"""The risk app's hand-written SQL: the only module of ``risk`` that writes SQL text.

docs/ARCHITECTURE.md, "Data access": identifiers from ``_meta`` (nexus.sql), a benchmark figure
beside each statement, every statement executed by tests/nexus/test_queries.py.
"""

from api.models import Transaction
from nexus import sql

from .models import Incident

T = sql.Names(Transaction)
N = sql.Names(Incident)

# The velocity rule runs after every outgoing transfer: count and sum per currency of each user's
# outgoing transfers in their window, for a whole batch of movements (the job worker's) in one grouped
# statement, the windows as one recordset parameter (nexus.sql), each aggregated on its own (LATERAL)
# through the index txn_initiator_created. One statement per user cost the worker a round trip per transfer.
# Nothing for a user while the rule's incident about them already stands in the window (the NOT
# EXISTS through index incident_rule_subject skips the aggregate): a user sending fast, the one this
# rule catches, has a window of thousands of transfers to add up on every transfer. Deciding that in
# the database, not in a per-process memo, keeps every worker in agreement and re-arms the rule as
# soon as its window is over. A/B, hot-pair scenario (3 alternating runs of 10 s, medians): 145 ok/s
# (83 per CPU-second) aggregating every time, 167 (101) with the filter.
_OUTGOING = ", ".join(f"'{kind.value}'" for kind in Transaction.OUTGOING_KINDS)
RECENT_OUTGOING = (
    f"SELECT w.user_id, found.* "
    f"FROM {sql.recordset({'user_id': 'uuid', 'subject': 'text', 'since': 'timestamptz', 'until': 'timestamptz'}, 'w')} "
    f"CROSS JOIN LATERAL (SELECT t.{T.currency}, COUNT(*), SUM(t.{T.amount}) FROM {T.table} t "
    f"WHERE t.{T.initiated_by} = w.user_id AND t.{T.kind} IN ({_OUTGOING}) "
    f"AND t.{T.created_at} > w.since AND t.{T.created_at} <= w.until "
    f"AND NOT EXISTS (SELECT 1 FROM {N.table} i WHERE i.{N.code} = %s AND i.{N.subject} = w.subject "
    f"AND i.{N.timestamp} > w.since) GROUP BY t.{T.currency}) found")


def recent_outgoing(windows: list[tuple], *, rule: str) -> dict:
    """``{user id: [(currency, count, sum of amounts)]}`` of each ``(user id, since, until)``'s outgoing
    transfers in ``(since, until]``; nothing for a user while an incident of ``rule`` about them stands
    since ``since``."""
    found: dict = {}
    rows = sql.fetch(RECENT_OUTGOING, [sql.records([{"user_id": user, "subject": str(user), "since": since, "until": until}
                                                    for user, since, until in windows]), rule])
    for user, currency, count, total in rows:
        found.setdefault(user, []).append((currency, count, total))
    return found


# Screening a batch of movements (the job worker's), a rule that fires for every movement of a night
# (unusual_hour) found one incident per user per window and a duplicate for every other movement: one
# existence query per movement cost the worker more than everything else it does for a transfer
# (0.35 of its 0.56 ms at night, in-process). The latest incident of the rule about each subject of the
# batch, in one statement through index incident_rule_subject, answers the whole batch.
LATEST_INCIDENTS = (
    f"SELECT {N.subject}, MAX({N.timestamp}) FROM {N.table} "
    f"WHERE {N.code} = %s AND {N.subject} = ANY(%s::text[]) AND {N.timestamp} > %s GROUP BY {N.subject}")


def latest_incidents(rule: str, subjects, since) -> dict:
    """``{subject: timestamp}`` of the newest incident of ``rule`` about each of ``subjects`` after ``since``."""
    return dict(sql.fetch(LATEST_INCIDENTS, [rule, sql.array(sorted(set(subjects))), since]))
