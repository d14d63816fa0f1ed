from datetime import timedelta

from . import Detector, Finding, RequestContext


class BlacklistedIP(Detector):
    """A request from a blacklisted IP (the middleware has already refused it)."""

    code = "blacklisted_ip"
    event = "Blacklisted IP blocked"
    severity = "high"
    window = timedelta(minutes=10)
    trigger = "blocked_request"

    def evaluate(self, context: RequestContext) -> Finding | None:
        return Finding(subject=context.ip, ip=context.ip, country=context.country,
                       details={"path": context.path[:200], "method": context.method})
