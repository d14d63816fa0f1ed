import datetime as dt

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from business import services


class Command(BaseCommand):
    help = "Roll up yesterday and today into DailyBusinessMetrics (run it from a scheduler, e.g. every 10 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2, help="How many days back from today (default 2).")

    def handle(self, *args, days, **options):
        today = services.today()
        for offset in range(max(days, 1)):
            services.rollup(today - dt.timedelta(days=offset))
        self.stdout.write(ngettext("Rolled up %(days)d day to %(today)s.", "Rolled up %(days)d days to %(today)s.",
                                   max(days, 1)) % {"days": max(days, 1), "today": today})
