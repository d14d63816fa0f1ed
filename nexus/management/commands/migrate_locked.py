"""``migrate``, once per deploy: under a PostgreSQL advisory lock, so concurrent runners take turns.

A deploy runs this as a one-shot job before it starts (or replaces) the app replicas; the replicas
never migrate at start-up. A second runner started by mistake waits for the lock, then finds nothing
left to apply. The lock is a session lock: run this against PostgreSQL directly, not through a
transaction-pooling PgBouncer (which would hand the session's statements to different servers).
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from nexus import queries

# An arbitrary constant of our own: pg_advisory_lock keys are shared by everything on the database.
MIGRATION_LOCK = 0x4E5842_4D4947  # "NXB" "MIG"


class Command(BaseCommand):
    help = "Apply migrations holding a PostgreSQL advisory lock (run once per deploy, never at node start-up)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--lock-timeout", type=int, default=600,
                            help="Seconds to wait for another runner's lock before giving up.")

    def handle(self, *args, database, lock_timeout, verbosity, **options):
        connection = connections[database]
        queries.advisory_lock(connection, MIGRATION_LOCK, lock_timeout)
        try:
            call_command("migrate", database=database, interactive=False, verbosity=verbosity)
        finally:
            queries.advisory_unlock(connection, MIGRATION_LOCK)
