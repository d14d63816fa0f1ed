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

log = logging.getLogger("nexus.aftercommit")


def _name(func) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _run(func: Callable, args, kwargs) -> None:
    try:
        func(*args, **kwargs)
    except Exception:
        log.exception("after-commit handler failed", extra={"handler": _name(func), "request_id": current_request().request_id})


def after_commit(func: Callable, *args, **kwargs) -> None:
    """Run ``func(*args, **kwargs)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _run(func, args, kwargs))


def send_robust(signal, sender, **named) -> None:
    """Every receiver runs even if one fails; each failure is logged with the request's id."""
    for receiver, result in signal.send_robust(sender=sender, **named):
        if isinstance(result, Exception):
            log.error("signal receiver failed", exc_info=(type(result), result, result.__traceback__),
                      extra={"handler": _name(receiver), "request_id": current_request().request_id})


def send_after_commit(signal, sender, **named) -> None:
    """Deliver a domain signal once the current transaction commits, to every receiver, never raising."""
    after_commit(send_robust, signal, sender, **named)
