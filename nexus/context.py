"""What the current request is, for code far from the view (audit records): its id and client IP.

Set by ``nexus.middleware.RequestContextMiddleware`` for the duration of one request; a context
variable, so each thread (and each asyncio task) sees its own request. Outside a request (a
management command, a test calling a service) it is empty.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    ip: str | None = None


_NO_REQUEST = RequestInfo()
_current: ContextVar[RequestInfo | None] = ContextVar("nexus_request", default=None)


def current_request() -> RequestInfo:
    return _current.get() or _NO_REQUEST


def set_current_request(info: RequestInfo):
    """Returns the token to pass to :func:`reset_current_request`."""
    return _current.set(info)


def reset_current_request(token) -> None:
    _current.reset(token)
