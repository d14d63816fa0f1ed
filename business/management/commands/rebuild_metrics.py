import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import ngettext
from tqdm import tqdm

from api import bounds
from api.models import Transaction
from business import services
from business.models import DailyActiveUser, MetricEvent

REBUILT_KINDS = [MetricEvent.Kind.TRANSFER, MetricEvent.Kind.BILL, MetricEvent.Kind.REVERSAL, MetricEvent.Kind.DEPOSIT]


def parse(value: str) -> dt.date:
    try:
        return bounds.parse_date(value)
    except ValidationError as exc:
        raise CommandError(f"{value}: {' '.join(exc.messages)}") from exc


class Command(BaseCommand):
    help = ("Recompute the business figures of a range of days from the raw tables (transactions, users, "
            "successful logins). Idempotent. Refused requests leave no raw row and are kept as recorded.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD (Asia/Amman)")
        parser.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD (Asia/Amman)")

    def handle(self, *args, first, last, **options):
        first, last = parse(first), parse(last)
        if first > last:
            raise CommandError("--from must not be after --to")
        start, _ = services.day_bounds(first)
        _, end = services.day_bounds(last)
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        with transaction.atomic():
            MetricEvent.objects.filter(day__gte=first, day__lte=last, kind__in=REBUILT_KINDS).delete()
            rows = (Transaction.objects.filter(created_at__gte=start, created_at__lt=end)
                    .select_related("reverses").order_by("created_at").iterator(chunk_size=2000))
            MetricEvent.objects.bulk_create(
                (services.event_for_transaction(txn) for txn in rows), batch_size=2000)
            self._rebuild_activity(start, end)
        for day in tqdm(days, desc="rollup", unit="day", disable=options.get("verbosity", 1) == 0):
            services.rollup(day)
        self.stdout.write(self.style.SUCCESS(ngettext("Rebuilt %(days)d day from %(first)s to %(last)s.",
                                                       "Rebuilt %(days)d days from %(first)s to %(last)s.", len(days))
                                              % {"days": len(days), "first": first, "last": last}))

    def _rebuild_activity(self, start, end):
        try:
            from risk.models import LoginEvent
        except ImportError:  # the risk app is optional for the rollup
            return
        pairs = LoginEvent.objects.filter(successful=True, user__isnull=False, timestamp__gte=start,
                                          timestamp__lt=end).values_list("timestamp", "user_id")
        DailyActiveUser.objects.bulk_create(
            (DailyActiveUser(day=services.bank_day(when), user_id=user) for when, user in pairs.iterator()),
            ignore_conflicts=True, batch_size=2000)
