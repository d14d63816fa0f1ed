from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from . import Detector, Finding, TransactionContext

OUTGOING_KINDS = ("internal", "external", "bill")


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
        from api.models import Transaction
        from risk.rates import rates

        txn = context.transaction
        if txn.kind not in OUTGOING_KINDS or context.user is None:
            return None
        # One grouped query: count and sum per currency of this user's recent outgoing transfers.
        rows = (
            Transaction.objects.filter(initiated_by=context.user, kind__in=OUTGOING_KINDS,
                                       created_at__gt=txn.created_at - self.window, created_at__lte=txn.created_at)
            .values("currency").annotate(n=Count("id"), total=Sum("amount"))
        )
        current = rates()
        count = sum(row["n"] for row in rows)
        total_jod = sum((money.to_base(row["total"], row["currency"], current) for row in rows), Decimal(0))
        if count < self.max_count and total_jod < self.max_amount_jod:
            return None
        return Finding(subject=str(context.user.pk), user=context.user,
                       details={"count_15m": count, "amount_15m_jod": str(money.quantize(total_jod, "JOD")),
                                "transaction_id": str(txn.pk)})
