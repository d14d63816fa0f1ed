from datetime import timedelta

from . import Detector, Finding, LoginContext


class BruteForce(Detector):
    """>= 5 failed logins on one email within 10 minutes."""

    code = "brute_force"
    event = "Brute force suspected"
    severity = "high"
    window = timedelta(minutes=10)
    trigger = "login"
    threshold = 5

    def evaluate(self, context: LoginContext) -> Finding | None:
        from risk.models import LoginEvent

        if context.successful or not context.email:
            return None
        failures = LoginEvent.objects.filter(
            attempted_email=context.email, successful=False, timestamp__gt=context.timestamp - self.window,
            timestamp__lte=context.timestamp,
        ).count()
        if failures < self.threshold:
            return None
        return Finding(subject=context.email, ip=context.ip, country=context.country,
                       details={"email": context.email, "failed_attempts_10m": failures})
