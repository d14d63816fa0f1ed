"""Time-bounded caches of reference data: the one kind of per-process state allowed.

Reference data changes rarely and is safe to see a few seconds late (FX rates, the bank's own
account numbers, the IP blacklist). A process keeps what ``loader`` returned for ``ttl`` seconds,
then reads it again. Nothing else may drop an entry early (no "invalidate on write" in the writing
process), so every worker and every node agrees again within the TTL; docs/ARCHITECTURE.md says
which data may be cached this way. ``clear()`` is for tests, whose database is rebuilt under them.
"""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_entries: dict[str, tuple[float, object]] = {}


def cached(name: str, ttl: float, loader: Callable[[], T]) -> T:
    """``loader()``, read again at most every ``ttl`` seconds in this process."""
    now = time.monotonic()
    entry = _entries.get(name)
    if entry is not None and now < entry[0]:
        return entry[1]
    value = loader()
    _entries[name] = (now + ttl, value)
    return value


def clear() -> None:
    _entries.clear()
