"""Throttles keyed on the real client IP (nexus.client_ip), counted in a store shared by all workers.

DRF's SimpleRateThrottle keeps a list of timestamps in the cache and rewrites it on every
request (a read and a write, not atomic across processes). Here each request is one atomic
increment of a fixed-window counter: ``INCR`` on Redis when ``REDIS_URL`` is set, otherwise a
single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on PostgreSQL (an UNLOGGED table). On
PostgreSQL an authenticated request's user-throttle hit is made by the statement that reads its user
row (api.authentication, ``api.queries.USER_BY_ID_COUNTING``): one round trip for both; the throttle
then reads the count handed over (:func:`record_counted`) instead of sending its own.
"""

import hashlib
import time

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from . import queries
from .client_ip import client_ip

_redis = None


def _redis_client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def window_of(window: int, now: float | None = None) -> tuple[int, int]:
    """(the current window's start, seconds until it ends)."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    return start, max(1, int(start + window - now))


def hit(key: str, window: int, now: float | None = None) -> tuple[int, int]:
    """Count one request for ``key``; return (hits in the current window, seconds until it ends)."""
    start, remaining = window_of(window, now)
    if settings.REDIS_URL:
        pipe = _redis_client().pipeline()
        redis_key = f"throttle:{key}:{start}"
        pipe.incr(redis_key)
        pipe.expire(redis_key, window + 1)
        return int(pipe.execute()[0]), remaining
    # Old windows are purged on a schedule by the job worker (nexus.housekeeping), never in a request.
    return queries.hit(key[:200], start), remaining


def parse_rate(rate: str) -> tuple[int, int]:
    count, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(count), seconds


class WindowThrottle(BaseThrottle):
    scope = ""

    def get_ident_key(self, request, view) -> str | None:
        """The client this request counts against; None means the throttle does not apply."""
        return None

    def allow_request(self, request, view):
        ident = self.get_ident_key(request, view)
        if ident is None:
            return True
        limit, window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[self.scope])
        key = f"{self.scope}:{ident}"
        counted = getattr(request._request, COUNTED, {}).get(key)
        count, self._wait = counted if counted is not None else hit(key, window)
        return count <= limit

    def wait(self):
        return getattr(self, "_wait", None)


class AnonThrottle(WindowThrottle):
    scope = "anon"

    def get_ident_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return client_ip(request)


class UserThrottle(WindowThrottle):
    scope = "user"

    def get_ident_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return f"u:{request.user.pk}"
        return None

    @classmethod
    def counted_with_the_user_row(cls, request, user_id) -> tuple[str, int, int] | None:
        """(key, window start, seconds left) when this request's hit can be counted by the statement that
        reads its user row (api.authentication): on PostgreSQL (no Redis), for a view this throttle guards.
        The count is then handed over with :func:`record_counted` and no statement of its own is sent."""
        view = (request.parser_context or {}).get("view")
        if settings.REDIS_URL or view is None or not any(
                issubclass(throttle, cls) for throttle in view.throttle_classes):
            return None
        start, remaining = window_of(parse_rate(api_settings.DEFAULT_THROTTLE_RATES[cls.scope])[1])
        return f"{cls.scope}:u:{user_id}"[:200], start, remaining


COUNTED = "nexus_throttle_counted"  # on the HttpRequest: {key: (hits, seconds left)} counted already


def record_counted(request, key: str, hits: int, remaining: int) -> None:
    counted = getattr(request._request, COUNTED, None)
    if counted is None:
        counted = {}
        setattr(request._request, COUNTED, counted)
    counted[key] = (hits, remaining)


class RegisterThrottle(WindowThrottle):
    scope = "register"

    def get_ident_key(self, request, view):
        return client_ip(request)


class LoginThrottle(WindowThrottle):
    """5/min per (IP, who is logging in): slows guessing without letting one IP lock out everyone.

    Who is logging in is the body's ``email``, or the field a view names in ``throttle_subject`` (the
    second step of a login names its ``mfa_token``: keyed on the IP alone, five strangers' attempts
    behind one NAT would stop every second step from it).
    """

    scope = "login"

    def get_ident_key(self, request, view):
        subject = ""
        if isinstance(request.data, dict):
            subject = str(request.data.get(getattr(view, "throttle_subject", "email"), ""))[:254].strip().lower()
        # Hashed: the raw value is unvalidated client input (a NUL or a lone surrogate would make
        # the counter's INSERT fail with a 500), and the counter table need not hold emails.
        digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{client_ip(request)}:{digest}"
