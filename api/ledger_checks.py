"""Whole-ledger invariants (``manage.py verify_ledger``, the benchmark's invariants, tests).

Set-based queries through the ORM: each returns only the rows that break an invariant.
"""

from django.db.models import Case, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from .bankday import bank_day, day_start
from .models import Account, LedgerEntry, Transaction

ZERO = Value(0, output_field=Account._meta.get_field("balance"))
LIMIT = 100


def _balances_not_explained():
    rows = (Account.objects.filter(role=Account.Role.CUSTOMER)
            .annotate(total=Coalesce(Sum("entries__amount"), ZERO)).exclude(balance=F("total"))
            .order_by("pk").values_list("pk", "balance", "total"))
    return "account {0} balance {1} != sum of its entries {2}", rows


def _unbalanced_transactions():
    rows = (LedgerEntry.objects.values("transaction_id", "currency").annotate(total=Sum("amount")).exclude(total=0)
            .order_by("transaction_id").values_list("transaction_id", "currency", "total"))
    return "transaction {0} does not balance in {1}: legs sum to {2}", rows


def _transactions_without_entries():
    rows = (Transaction.objects.filter(~Exists(LedgerEntry.objects.filter(transaction=OuterRef("pk"))))
            .order_by("pk").values_list("pk"))
    return "transaction {0} has no ledger entries", rows


def _entries_in_another_currency():
    rows = (LedgerEntry.objects.exclude(currency=F("account__currency")).order_by("pk")
            .values_list("pk", "currency", "account__currency"))
    return "ledger entry {0} currency {1} differs from its account's {2}", rows


def _negative_balances():
    rows = Account.objects.filter(balance__lt=0).order_by("pk").values_list("pk", "balance")
    return "account {0} has a negative balance {1}", rows


def _daily_counters_not_explained():
    day = bank_day()
    spent_today = Q(outgoing__created_at__gte=day_start(day), outgoing__kind__in=Transaction.OUTGOING_KINDS,
                    outgoing__status=Transaction.Status.SUCCESS)
    rows = (Account.objects.filter(role=Account.Role.CUSTOMER)
            .annotate(counted=Case(When(spent_on=day, then=F("spent_amount")), default=ZERO),
                      spent=Coalesce(Sum("outgoing__amount", filter=spent_today), ZERO))
            .exclude(counted=F("spent")).order_by("pk").values_list("pk", "counted", "spent"))
    return "account {0} daily limit counter {1} != today's outgoing amounts {2}", rows


CHECKS = [_balances_not_explained, _unbalanced_transactions, _transactions_without_entries,
          _entries_in_another_currency, _negative_balances, _daily_counters_not_explained]


def find_discrepancies() -> list[str]:
    problems = []
    for check in CHECKS:
        message, rows = check()
        problems += [message.format(*row) for row in rows[:LIMIT]]
    return problems
