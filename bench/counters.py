"""Per-worker request and SQL counters shared between gunicorn workers and the benchmark driver.

PostgreSQL's pg_stat_statements is not part of the embedded server build, and the counters of
``pg_stat_database`` are flushed by idle backends only every ~10 s, so neither gives an exact
per-scenario figure. Instead every gunicorn worker counts, in its own slot of a small
memory-mapped file, the requests it served and the SQL statements Django sent for them (through
``connection.execute_wrappers``), with their time and any SQLSTATE errors (deadlocks,
serialization failures). The driver reads the file before and after each scenario.

Not counted as statements: the ``BEGIN``/``COMMIT`` the driver issues around an atomic block and
the ``SELECT 1`` connection health check (``CONN_HEALTH_CHECKS``): each is one more round trip.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, fields
from pathlib import Path

SLOTS = 128
FIELDS = (
    "pid", "requests", "request_ns", "queries", "query_ns",
    "deadlocks", "serialization_failures", "lock_timeouts", "other_db_errors",
)
_SLOT = struct.Struct("<" + "q" * len(FIELDS))
SIZE = SLOTS * _SLOT.size


def create(path: Path) -> None:
    path.write_bytes(b"\0" * SIZE)


def open_map(path: Path, *, write: bool) -> mmap.mmap:
    with open(path, "r+b" if write else "rb") as handle:
        return mmap.mmap(handle.fileno(), SIZE, access=mmap.ACCESS_WRITE if write else mmap.ACCESS_READ)


def write_slot(mapped: mmap.mmap, slot: int, values: list[int]) -> None:
    _SLOT.pack_into(mapped, (slot % SLOTS) * _SLOT.size, *values)


@dataclass
class Totals:
    requests: int = 0
    request_ns: int = 0
    queries: int = 0
    query_ns: int = 0
    deadlocks: int = 0
    serialization_failures: int = 0
    lock_timeouts: int = 0
    other_db_errors: int = 0

    def __sub__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


def read_totals(path: Path) -> Totals:
    """Sum over all worker slots (a restarted worker takes a new slot, so nothing is lost)."""
    data = path.read_bytes()
    total = Totals()
    for slot in range(SLOTS):
        values = dict(zip(FIELDS, _SLOT.unpack_from(data, slot * _SLOT.size), strict=True))
        if not values["pid"]:
            continue
        for name in FIELDS[1:]:
            setattr(total, name, getattr(total, name) + values[name])
    return total
