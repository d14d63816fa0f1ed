"""FX rates for risk heuristics, cached per process for a minute (velocity sums in JOD)."""

import time
from decimal import Decimal

_cache: tuple[float, dict[str, Decimal]] | None = None
TTL_SECONDS = 60


def rates() -> dict[str, Decimal]:
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > TTL_SECONDS:
        from api.services.fx import current_rates

        _cache = (now, current_rates()[0])
    return _cache[1]


def forget() -> None:
    global _cache
    _cache = None
