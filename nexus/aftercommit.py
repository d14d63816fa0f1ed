"""Side effects after commit (risk screening, metrics, notifications) that can never fail the request.

When a callback registered with ``transaction.on_commit`` raises, Django raises it out of the
``atomic`` block, after the commit: the client would get a 500 for a transfer that happened, and
one retrying without an idempotency key would pay twice. Everything run after commit goes through
``after_commit``: a failure is logged with the request's id and the client gets its answer.
"""

import logging
from collections.abc import Callable

from django.db import transaction

from .context import current_request
from .outage import database_unavailable

log = logging.getLogger("nexus.aftercommit")


def _name(func) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _report(handler, exc: BaseException) -> None:
    """A bug is logged with its traceback; a database (or throttle store) gone under a committed
    request is an outage, already answered as one everywhere: one warning line, no traceback."""
    extra = {"handler": _name(handler), "request_id": current_request().request_id}
    if database_unavailable(exc):
        log.warning("after-commit handler skipped: the database is unavailable", extra=extra)
    else:
        log.error("after-commit handler failed", exc_info=(type(exc), exc, exc.__traceback__), extra=extra)


def _run(func: Callable, args, kwargs) -> None:
    try:
        func(*args, **kwargs)
    except Exception as exc:
        _report(func, exc)


def after_commit(func: Callable, *args, **kwargs) -> None:
    """Run ``func(*args, **kwargs)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _run(func, args, kwargs))


def send_robust(signal, sender, **named) -> None:
    """Every receiver runs even if one fails; each failure is logged with the request's id."""
    for receiver, result in signal.send_robust(sender=sender, **named):
        if isinstance(result, Exception):
            _report(receiver, result)


def send_after_commit(signal, sender, **named) -> None:
    """Deliver a domain signal once the current transaction commits, to every receiver, never raising."""
    after_commit(send_robust, signal, sender, **named)
