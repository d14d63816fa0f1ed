"""migrate_locked applies migrations while holding its advisory lock, and a second runner waits for it."""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connections

from nexus.management.commands import migrate_locked

pytestmark = pytest.mark.django_db(transaction=True)

HELD = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = %s AND pid <> pg_backend_pid()"


def lock_holders(alias="default") -> int:
    # pg_locks splits a bigint key into classid (high 32 bits) and objid (low 32 bits).
    with connections[alias].cursor() as cursor:
        cursor.execute(HELD, [migrate_locked.MIGRATION_LOCK & 0xFFFFFFFF])
        return cursor.fetchone()[0]


def test_migrate_runs_under_the_advisory_lock(monkeypatch):
    seen = {}
    real = migrate_locked.call_command

    def spy(name, **options):
        # Another session looks at pg_locks while migrate runs.
        thread = threading.Thread(target=lambda: (seen.setdefault("holders", lock_holders()),
                                                  connections.close_all()))
        thread.start()
        thread.join(10)
        return real(name, **options)

    monkeypatch.setattr(migrate_locked, "call_command", spy)
    call_command("migrate_locked", verbosity=0)
    assert seen["holders"] == 1
    assert lock_holders() == 0  # released afterwards


def test_a_second_runner_waits_for_the_first():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [migrate_locked.MIGRATION_LOCK])
    done = threading.Event()

    def second():
        try:
            call_command("migrate_locked", verbosity=0)
            done.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=second)
    try:
        thread.start()
        time.sleep(1)
        assert not done.is_set(), "the second runner did not wait for the lock"
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [migrate_locked.MIGRATION_LOCK])
    thread.join(60)
    assert done.is_set()
