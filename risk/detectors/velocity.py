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
        findings = self.evaluate_many([context])
        return findings[0] if findings else None

    def evaluate_many(self, contexts: list[TransactionContext]) -> list[Finding]:
        """Every user's window in one statement (risk.queries.recent_outgoing)."""
        from api import money
        from api.models import Transaction
        from api.services.fx import current_rates
        from risk.queries import recent_outgoing

        due = [context for context in contexts
               if context.transaction.kind in Transaction.OUTGOING_KINDS and context.user is not None]
        if not due:
            return []
        # While this rule's incident for a user stands, there is nothing to add up (risk.queries).
        windows = recent_outgoing([(context.user.pk, context.transaction.created_at - self.window,
                                    context.transaction.created_at) for context in due], rule=self.code)
        current = current_rates()[0]
        findings = []
        for context in due:
            rows = windows.get(context.user.pk, [])
            count = sum(n for _, n, _ in rows)
            total_jod = sum((money.to_base(total, currency, current) for currency, _, total in rows), Decimal(0))
            if count >= self.max_count or total_jod >= self.max_amount_jod:
                findings.append(Finding(
                    subject=str(context.user.pk), user=context.user, at=context.transaction.created_at,
                    details={"count_15m": count, "amount_15m_jod": str(money.quantize(total_jod, "JOD")),
                             "transaction_id": str(context.transaction.pk)}))
        return findings
