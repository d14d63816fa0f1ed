"""Seed a cohort of benchmark customers fast, ledger-consistently, and mint their tokens.

Every run seeds a fresh cohort (emails carry the run id), so daily limits and statements never
carry over between runs on the same day. One password hash is computed once and shared; users,
accounts, opening deposits and their ledger legs go in with bulk inserts in one transaction.
Each opening deposit is a real ``deposit`` transaction from the vault house account, with the
two ledger legs the deposit service would post, and the account balance set to match.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

CURRENCIES = ("JOD", "USD", "EUR")
ACCOUNT_TYPE = {"JOD": "Savings", "USD": "USD", "EUR": "EUR"}
OPENING = {"JOD": Decimal("50000.000"), "USD": Decimal("50000.00"), "EUR": Decimal("50000.00")}
EMAIL_DOMAIN = "bench.nexus.invalid"
BATCH = 2000


@dataclass
class Customer:
    user_id: str
    email: str
    accounts: dict[str, str]  # currency -> account number
    token: str = ""


@dataclass
class Cohort:
    run_id: str
    password: str
    started_at: datetime
    customers: list[Customer]  # for the HTTP scenarios
    hot_pair: tuple[Customer, Customer]
    baseline: list[Customer]  # for the raw-SQL baseline only
    opening: dict[str, Decimal] = field(default_factory=lambda: dict(OPENING))
    seconds: float = 0.0

    @property
    def everyone(self) -> list[Customer]:
        return [*self.customers, *self.hot_pair, *self.baseline]

    def opening_balances(self) -> dict[str, Decimal]:
        return {number: self.opening[currency] for c in self.everyone for currency, number in c.accounts.items()}


def _unique_numbers(count: int) -> list[str]:
    from api.identifiers import new_account_number
    from api.models import Account

    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.update(new_account_number() for _ in range(count - len(numbers)))
        taken = set(Account.objects.filter(pk__in=numbers).values_list("pk", flat=True))
        numbers -= taken
    return list(numbers)


def seed(*, customers: int, baseline: int, run_id: str | None = None) -> Cohort:
    import time

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from api.models import Account, LedgerEntry, Transaction, User
    from api.services.house import house_account_number
    from api.signals import money_moved

    started = time.perf_counter()
    run_id = run_id or timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    password = "Bench-" + secrets.token_urlsafe(12)
    hashed = make_password(password)  # once: PBKDF2 costs ~0.25 s per call here
    vault = {currency: house_account_number("vault", currency) for currency in CURRENCIES}
    now = timezone.now()
    total = customers + 2 + baseline
    numbers = iter(_unique_numbers(total * len(CURRENCIES)))

    users, accounts, txns, entries, people = [], [], [], [], []
    for i in range(total):
        user = User(id=uuid.uuid4(), email=f"bench-{run_id}-{i:05d}@{EMAIL_DOMAIN}", password=hashed,
                    first_name="Bench", last_name=f"Customer {i}", country="JO", date_joined=now)
        users.append(user)
        owned = {}
        for currency in CURRENCIES:
            number = next(numbers)
            owned[currency] = number
            amount = OPENING[currency]
            accounts.append(Account(account_number=number, owner_id=user.id, type=ACCOUNT_TYPE[currency],
                                    currency=currency, role="customer", balance=amount,
                                    daily_limit=Account.DEFAULT_DAILY_LIMIT, created_at=now))
            txn = Transaction(id=uuid.uuid4(), kind="deposit", status="SUCCESS", sender_account_id=vault[currency],
                              receiver_account_id=number, amount=amount, currency=currency,
                              credited_amount=amount, credited_currency=currency, receiver_balance_after=amount,
                              description="Benchmark opening deposit", created_at=now)
            txns.append(txn)
            entries.append(LedgerEntry(transaction_id=txn.id, account_id=vault[currency], amount=-amount,
                                       currency=currency, purpose="principal", created_at=now))
            entries.append(LedgerEntry(transaction_id=txn.id, account_id=number, amount=amount,
                                       currency=currency, purpose="principal", balance_after=amount,
                                       created_at=now))
        people.append(Customer(user_id=str(user.id), email=user.email, accounts=owned))

    with transaction.atomic():
        User.objects.bulk_create(users, batch_size=BATCH)
        Account.objects.bulk_create(accounts, batch_size=BATCH)
        Transaction.objects.bulk_create(txns, batch_size=BATCH)
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)

    # What the deposit postings' jobs would announce, so that business and risk see the seeded
    # cohort's deposits exactly as they would see real teller deposits.
    money_moved.send(sender=Transaction, transactions=txns)

    cohort = Cohort(run_id=run_id, password=password, started_at=now, customers=people[:customers],
                    hot_pair=(people[customers], people[customers + 1]), baseline=people[customers + 2:])
    cohort.seconds = time.perf_counter() - started
    _users_by_id.update({str(u.id): u for u in users})
    return cohort


_users_by_id: dict = {}


def mint_tokens(cohort: Cohort) -> float:
    """Access tokens for every HTTP customer (15-minute lifetime: minted right before each scenario).

    ``AccessToken.for_user`` signs locally; unlike ``RefreshToken`` it writes no outstanding-token row.
    """
    import time

    from rest_framework_simplejwt.tokens import AccessToken

    started = time.perf_counter()
    for customer in [*cohort.customers, *cohort.hot_pair]:
        customer.token = str(AccessToken.for_user(_users_by_id[customer.user_id]))
    return time.perf_counter() - started
