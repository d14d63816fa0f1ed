"""Reference data cached per process, and applied at once (contract v1.3).

Reference data changes rarely and is read on every request (FX rates, the IP blacklist, the bank's own
account numbers): a process keeps what ``loader`` returned, with the reference version it was read at.
Every change of reference data moves that version in its own transaction (a statement trigger on each
table: ``nexus_reference_changed()``, migration nexus 0004). A request reads the version once, and reloads an entry only when the version moved: a change applies
to every request that starts after it was answered, on every worker and every node. An authenticated
API request learns the version from its user row (the statement it runs anyway, ``api.queries.
USER_BY_ID``): its first check (the blacklist, before any view) uses what is cached and is made again,
fresh, the moment the version is learned if it moved (:func:`cached_or_later`, :func:`learned`), before
the view does anything. Any other request reads the version with its first use (one primary-key read).
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


_rechecks: ContextVar[list | None] = ContextVar("nexus_reference_rechecks", default=None)


def learned(version: int) -> None:
    """This request's reference version, read with another statement (the user row): checks made on
    older data are made again now (:func:`cached_or_later`); they raise to refuse the request."""
    if not _in_request.get() or _version.get() is not None:
        return
    _version.set(version)
    for checked_at, recheck in _rechecks.get() or []:
        if checked_at != version:
            recheck()


def cached_or_later(name: str, loader: Callable[[], T], recheck: Callable[[], None]) -> T:
    """What is cached, without reading the version now, when this request will learn it from its user
    row (:func:`learned` then calls ``recheck`` if the data moved); otherwise :func:`cached`."""
    entry = _entries.get(name)
    if entry is None or not _in_request.get() or _version.get() is not None:
        return cached(name, loader)
    _rechecks.set([*(_rechecks.get() or []), (entry[0], recheck)])
    return entry[1]


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
    token, scope, rechecks = _version.set(None), _in_request.set(True), _rechecks.set(None)
    try:
        yield
    finally:
        _version.reset(token)
        _in_request.reset(scope)
        _rechecks.reset(rechecks)


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
