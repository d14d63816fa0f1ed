"""Detection rules: one module per rule, listed in settings.RISK_DETECTORS.

A detector is a small class with one job: given one event, say whether its rule fires, about
whom (the subject) and with which details. It never writes; ``risk.services`` records the
incident, once per rule, subject and window.
"""

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass
class LoginContext:
    email: str
    ip: str
    country: str
    successful: bool
    user: object | None
    timestamp: object
    event_id: int | None = None


@dataclass
class TransactionContext:
    transaction: object
    user: object


@dataclass
class RequestContext:
    ip: str
    path: str
    method: str
    country: str = ""


@dataclass
class Finding:
    subject: str
    details: dict = field(default_factory=dict)
    user: object | None = None
    ip: str | None = None
    country: str = ""
    at: object | None = None  # when what it is about happened (a movement's time); None: now


class Detector:
    code: str = ""
    event: str = ""
    severity: str = "high"
    window: timedelta = timedelta(minutes=10)
    # Which feed calls it: "login", "transaction" or "blocked_request".
    trigger: str = ""
    # A rule that adds up its subject's events over its window (velocity): screening a batch of events
    # (the job worker's), it is evaluated at each subject's latest event only, whose window holds the
    # others (a batch spans milliseconds). A rule about each event itself (an hour) sees every one.
    cumulative: bool = False

    def evaluate(self, context) -> Finding | None:
        """Return a Finding when the rule fires for this event, else None. Reads only."""
        return None

    def evaluate_many(self, contexts: list) -> list[Finding]:
        """The findings of a batch of events (the job worker's). A rule that reads the database for
        each event answers a whole batch in one statement instead (velocity)."""
        return [finding for context in contexts if (finding := self.evaluate(context)) is not None]
