from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from . import Detector, Finding, TransactionContext


class UnusualHour(Detector):
    """A transfer between 00:00 and 05:00 in the bank's time zone (Asia/Amman)."""

    code = "unusual_hour"
    event = "Unusual hour transaction"
    severity = "low"
    window = timedelta(hours=5)  # one incident per user per night
    trigger = "transaction"
    start_hour, end_hour = 0, 5

    def evaluate(self, context: TransactionContext) -> Finding | None:
        txn = context.transaction
        if txn.kind not in ("internal", "external", "bill") or context.user is None:
            return None
        local = txn.created_at.astimezone(ZoneInfo(settings.BANK_TIME_ZONE))
        if not (self.start_hour <= local.hour < self.end_hour):
            return None
        return Finding(subject=str(context.user.pk), user=context.user, at=txn.created_at,
                       details={"local_time": local.isoformat(), "transaction_id": str(txn.pk)})
