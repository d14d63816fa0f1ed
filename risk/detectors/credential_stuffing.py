from datetime import timedelta

from django.db.models import Count

from . import Detector, Finding, LoginContext


class CredentialStuffing(Detector):
    """>= 5 failed logins from one IP on >= 3 distinct emails within 10 minutes."""

    code = "credential_stuffing"
    event = "Credential stuffing suspected from IP"
    severity = "high"
    window = timedelta(minutes=10)
    trigger = "login"
    min_failures = 5
    min_targets = 3

    def evaluate(self, context: LoginContext) -> Finding | None:
        from risk.models import LoginEvent

        if context.successful:
            return None
        stats = LoginEvent.objects.filter(
            ip=context.ip, successful=False, timestamp__gt=context.timestamp - self.window,
            timestamp__lte=context.timestamp,
        ).aggregate(failures=Count("id"), targets=Count("attempted_email", distinct=True))
        if stats["failures"] < self.min_failures or stats["targets"] < self.min_targets:
            return None
        return Finding(subject=context.ip, ip=context.ip, country=context.country,
                       details={"attempt_count": stats["failures"], "distinct_targets": stats["targets"]})
