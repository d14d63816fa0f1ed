
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from api.housekeeping import purge_idempotency


class Command(BaseCommand):
    help = "Delete idempotency records older than IDEMPOTENCY_RETENTION_HOURS (never less than 24 hours)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=settings.IDEMPOTENCY_RETENTION_HOURS)

    def handle(self, *args, hours, **options):
        hours = max(hours, 24)
        deleted = purge_idempotency(hours=hours)
        self.stdout.write(ngettext("Deleted %(count)d idempotency record older than %(hours)d hours.",
                                   "Deleted %(count)d idempotency records older than %(hours)d hours.", deleted)
                          % {"count": deleted, "hours": hours})
