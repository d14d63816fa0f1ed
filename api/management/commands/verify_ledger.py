from django.core.management.base import BaseCommand, CommandError

from api.ledger_checks import find_discrepancies


class Command(BaseCommand):
    help = ("Recompute every balance from the ledger, check that each transaction sums to zero per currency "
            "and that the daily limit counters equal today's outgoing amounts.")

    def handle(self, *args, **options):
        problems = find_discrepancies()
        if problems:
            for problem in problems[:20]:
                self.stderr.write(problem)
            raise CommandError(f"Ledger check failed: {problems[0]}")
        self.stdout.write(self.style.SUCCESS("Ledger OK: balances equal their entries; every transaction balances; "
                                             "daily limit counters match."))
