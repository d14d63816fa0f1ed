import datetime as dt

from django.core.management.base import BaseCommand

from business import services


class Command(BaseCommand):
    help = "Roll up yesterday and today into DailyBusinessMetrics (run it from a scheduler, e.g. every 10 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2, help="How many days back from today (default 2).")

    def handle(self, *args, days, **options):
        today = services.today()
        for offset in range(max(days, 1)):
            services.rollup(today - dt.timedelta(days=offset))
        self.stdout.write(f"Rolled up {max(days, 1)} day(s) to {today}.")
