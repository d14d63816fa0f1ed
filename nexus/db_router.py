"""Reads that may lag go to the standby; everything else stays on the primary.

The rule (docs/SCALING.md):

* Only staff reporting data is ever read from the standby (``REPORTING_MODELS``: the business
  figures, risk incidents and login events, the audit trail), and only in a request with a safe
  method (GET, HEAD, OPTIONS) that has written nothing yet. A report may be a fraction of a second
  old; nobody acts on a single row of it.
* Everything a customer reads after their own write (accounts and balances, statements, transfer
  detail, idempotent replays), authentication (the user row, token revocation), the IP blacklist and
  every read inside a write request come from the primary.
* A request is pinned to the primary by its first write: what it reads afterwards is never older
  than what it wrote.
* Outside a request (management commands, after-commit hooks run by a worker, tests) everything is
  on the primary.

Without a standby (``DATABASE_REPLICA_URL`` unset, so ``DATABASE_REPLICA_ALIAS`` is None) every read
is on the primary.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings

REPORTING_MODELS = frozenset({
    "api.auditrecord",
    "business.metricevent", "business.dailyactiveuser", "business.dailybusinessmetrics",
    "risk.incident", "risk.loginevent",
})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _Routing:
    may_read_replica: bool
    pinned: bool = False


_current: ContextVar[_Routing | None] = ContextVar("nexus_db_routing", default=None)


def _label(model) -> str:
    return model._meta.label_lower


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        routing = _current.get()
        replica = settings.DATABASE_REPLICA_ALIAS
        if (replica and routing is not None and routing.may_read_replica and not routing.pinned
                and _label(model) in REPORTING_MODELS):
            return replica
        return "default"

    def db_for_write(self, model, **hints):
        routing = _current.get()
        if routing is not None:
            routing.pinned = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the standby is a copy of the primary: the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # a standby replays the primary's schema; it is never migrated


class ReadRoutingMiddleware:
    """Marks the request as one that may read reports from the standby (safe method, nothing written)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(_Routing(may_read_replica=request.method in SAFE_METHODS))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
