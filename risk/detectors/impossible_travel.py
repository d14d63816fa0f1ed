from datetime import timedelta

from . import Detector, Finding, LoginContext


class ImpossibleTravel(Detector):
    """A successful login from another country than the previous successful login, within 1 hour."""

    code = "impossible_travel"
    event = "Impossible travel suspected"
    severity = "high"
    window = timedelta(hours=1)
    trigger = "login"

    def evaluate(self, context: LoginContext) -> Finding | None:
        from risk.models import LoginEvent

        if not context.successful or context.user is None or not context.country:
            return None
        previous = (
            LoginEvent.objects.filter(user=context.user, successful=True, timestamp__lte=context.timestamp)
            .exclude(country="")
            .exclude(pk=context.event_id)
            .order_by("-timestamp", "-id")
            .values("country", "timestamp", "ip")
            .first()
        )
        if previous is None or previous["country"] == context.country:
            return None
        elapsed = context.timestamp - previous["timestamp"]
        if elapsed > self.window:
            return None
        return Finding(
            subject=str(context.user.pk), user=context.user, ip=context.ip, country=context.country,
            details={"previous_country": previous["country"], "new_country": context.country,
                     "previous_ip": previous["ip"], "minutes_since_last_login": round(elapsed.total_seconds() / 60)},
        )
