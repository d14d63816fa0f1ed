from datetime import timedelta
from decimal import Decimal

from nexus import sql

from . import Detector, Finding, TransactionContext

OUTGOING_KINDS = ("internal", "external", "bill")
# Count and sum per currency of a user's recent outgoing transfers: one grouped statement through
# the index txn_initiator_created, written once (it runs after every transfer).
_RECENT_SQL = """
SELECT "currency", COUNT(*), SUM("amount") FROM "api_transaction"
WHERE "initiated_by_id" = %s AND "kind" = ANY(%s) AND "created_at" > %s AND "created_at" <= %s
GROUP BY "currency"
"""


class Velocity(Detector):
    """A user's outgoing transfers in 15 minutes reach 10, or 50000 JOD-equivalent."""

    code = "velocity"
    event = "Suspicious transaction velocity"
    severity = "high"
    window = timedelta(minutes=15)
    trigger = "transaction"
    max_count = 10
    max_amount_jod = Decimal("50000")

    def evaluate(self, context: TransactionContext) -> Finding | None:
        from api import money
        from risk.rates import rates

        txn = context.transaction
        if txn.kind not in OUTGOING_KINDS or context.user is None:
            return None
        rows = sql.fetch(_RECENT_SQL, [context.user.pk, list(OUTGOING_KINDS), txn.created_at - self.window,
                                       txn.created_at])
        current = rates()
        count = sum(n for _, n, _ in rows)
        total_jod = sum((money.to_base(total, currency, current) for currency, _, total in rows), Decimal(0))
        if count < self.max_count and total_jod < self.max_amount_jod:
            return None
        return Finding(subject=str(context.user.pk), user=context.user,
                       details={"count_15m": count, "amount_15m_jod": str(money.quantize(total_jod, "JOD")),
                                "transaction_id": str(txn.pk)})
