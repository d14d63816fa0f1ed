from datetime import timedelta
from decimal import Decimal

from . import Detector, Finding, TransactionContext


class Velocity(Detector):
    """A user's outgoing transfers in 15 minutes reach 10, or 50000 JOD-equivalent."""

    code = "velocity"
    event = "Suspicious transaction velocity"
    severity = "high"
    window = timedelta(minutes=15)
    trigger = "transaction"
    cumulative = True
    max_count = 10
    max_amount_jod = Decimal("50000")

    def evaluate(self, context: TransactionContext) -> Finding | None:
        from api import money
        from api.models import Transaction
        from api.services.fx import current_rates
        from risk.queries import recent_outgoing

        txn = context.transaction
        if txn.kind not in Transaction.OUTGOING_KINDS or context.user is None:
            return None
        # While this rule's incident for the user stands, there is nothing to add up (risk.queries).
        rows = recent_outgoing(context.user.pk, txn.created_at - self.window, txn.created_at,
                               unless=(self.code, str(context.user.pk)))
        current = current_rates()[0]
        count = sum(n for _, n, _ in rows)
        total_jod = sum((money.to_base(total, currency, current) for currency, _, total in rows), Decimal(0))
        if count < self.max_count and total_jod < self.max_amount_jod:
            return None
        return Finding(subject=str(context.user.pk), user=context.user,
                       details={"count_15m": count, "amount_15m_jod": str(money.quantize(total_jod, "JOD")),
                                "transaction_id": str(txn.pk)})
