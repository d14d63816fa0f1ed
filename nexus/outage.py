"""Telling an outage (no usable database or throttle store right now) from a bug.

Every answer to an outage is the contract's 503 ``service_unavailable`` (nexus.exceptions,
nexus.errors); after-commit reactions skip with a warning (nexus.aftercommit). Kept apart from the
error handler so that modules low in the import graph can use it without importing DRF's views.
"""

from django.db import InterfaceError, InternalError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .sql import sqlstate

# Errors that say "no usable database right now", not "this request is wrong": a server that shut
# down or crashed under the session (57P01-57P03), too many connections (53300), and a former primary
# that came back read-only after a failover (25006). A refused or broken connection has no SQLSTATE
# (or a class 08 one, which PgBouncer uses); so has the driver's own protocol confusion when a server
# dies under a COMMIT behind PgBouncer ("received 2 results from command 'COMMIT'", an InternalError).
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300", "25006"}


def database_unavailable(exc: BaseException) -> bool:
    """The database, or the shared store of the throttle counters (Redis, when configured), cannot be reached."""
    if isinstance(exc, InterfaceError | RedisConnectionError | RedisTimeoutError):  # a connection closed under us
        return True
    if not isinstance(exc, OperationalError | InternalError):
        return False
    state = sqlstate(exc)
    if state is None:
        return True
    return state.startswith("08") or state in _UNAVAILABLE_STATES
