"""Reference data cached per process, and applied at once (contract v1.3).

Reference data changes rarely and is read on every request (FX rates, the IP blacklist, the bank's own
account numbers): a process keeps what ``loader`` returned, with the reference version it was read at.
Every change of reference data moves that version in its own transaction (a statement trigger on each
table: ``nexus_reference_changed()``, migration nexus 0004). A request reads the version once, with its
first use of reference data (one primary-key read), and reloads an entry only when the version moved:
a change applies to every request that starts after it was answered, on every worker and every node.
Outside a request (the job worker's batch, a command) :func:`pinned` reads it once for a block; without
it each use reads it.

If the database cannot be reached for the version, what is cached is used (the request then meets the
outage on its own statements, or answers without them, as ``/health/`` does). ``clear()`` is for tests,
whose database is rebuilt under them.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db import DatabaseError

T = TypeVar("T")

_entries: dict[str, tuple[int, object]] = {}
_version: ContextVar[int | None] = ContextVar("nexus_reference_version", default=None)


def _read() -> int:
    from . import queries

    return queries.reference_version()


def current_version() -> int:
    """The reference version this request (or pinned block) reads at, read on first use."""
    version = _version.get()
    if version is None:
        version = _read()
        if _in_request.get():
            _version.set(version)
    return version


_in_request: ContextVar[bool] = ContextVar("nexus_reference_request", default=False)


def cached(name: str, loader: Callable[[], T]) -> T:
    """``loader()``, read again whenever the reference version moved since it was last read."""
    entry = _entries.get(name)
    try:
        version = current_version()
    except DatabaseError:
        if entry is not None:
            return entry[1]
        raise
    if entry is not None and entry[0] == version:
        return entry[1]
    value = loader()
    _entries[name] = (version, value)
    return value


@contextmanager
def request_scope() -> Iterator[None]:
    """One request: the version is read once, at its first use of reference data (nexus.middleware)."""
    token, scope = _version.set(None), _in_request.set(True)
    try:
        yield
    finally:
        _version.reset(token)
        _in_request.reset(scope)


@contextmanager
def pinned() -> Iterator[None]:
    """A block that reads reference data at one version, read now (the job worker's batch)."""
    token = _version.set(_read())
    try:
        yield
    finally:
        _version.reset(token)


def clear() -> None:
    _entries.clear()
