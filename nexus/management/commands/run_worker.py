"""``python manage.py run_worker``: carry out the job queue and the schedules (nexus.jobs) until stopped."""

import signal

from django.core.management.base import BaseCommand

from nexus import heap, jobs


class Command(BaseCommand):
    help = ("Carry out what committed operations owe (notifications, business figures, risk screening) and the "
            "scheduled tasks. Run one or more beside the web servers; they share the work through PostgreSQL.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain the queue and run due tasks once, then exit.")

    def handle(self, *args, once=False, **options):
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        heap.settle()  # a long-running server process, as the web servers' (nexus.heap)
        self.stdout.write("Job worker started; Ctrl-C or SIGTERM stops it.")
        jobs.run_worker(stop=lambda: bool(stopping), once=once)
        self.stdout.write("Job worker stopped.")
