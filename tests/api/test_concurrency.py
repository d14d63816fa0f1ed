"""Real threads against PostgreSQL: no lost update, no negative balance, no deadlock, no double spend."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from api.models import Account, Transaction
from tests.factories import AccountFactory, UserFactory, bearer, fund

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(count: int, work):
    """Start ``count`` threads on a barrier so they really collide; return their results in order."""
    barrier = threading.Barrier(count)

    def wrapped(index):
        try:
            barrier.wait(10)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(wrapped, range(count)))


def post(token, url, body, **headers):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=token)
    response = client.post(url, body, format="json", **headers)
    return response.status_code, response


def verify_ledger():
    call_command("verify_ledger")


def deadlocks() -> int:
    """PostgreSQL's own count of deadlocks detected in this database (flushed when backends exit)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_opposite_transfers_do_not_deadlock_or_lose_updates():
    alice, bob = UserFactory(), UserFactory()
    a = AccountFactory(owner=alice, funded=Decimal("100000.000"))
    b = AccountFactory(owner=bob, funded=Decimal("100000.000"))
    tokens = {alice.pk: bearer(alice), bob.pk: bearer(bob)}
    per_thread = 20
    deadlocks_before = deadlocks()

    def work(index):
        sender, receiver, owner = (a, b, alice) if index % 2 == 0 else (b, a, bob)
        codes = []
        for _ in range(per_thread):
            status, _ = post(tokens[owner.pk], "/transfers/external/",
                             {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "1.000"})
            codes.append(status)
        return codes

    results = [code for codes in run_threads(16, work) for code in codes]
    assert results.count(201) == 16 * per_thread, sorted(set(results))
    a.refresh_from_db()
    b.refresh_from_db()
    # Every transfer moved 1.000 and charged a 0.010 fee to its sender; 8 threads x 20 each way.
    assert a.balance == b.balance == Decimal("100000.000") - 8 * per_thread * Decimal("0.010")
    verify_ledger()
    # Not merely retried away: ordered NO KEY UPDATE locks mean PostgreSQL never saw a deadlock.
    time.sleep(1.1)
    assert deadlocks() == deadlocks_before


@pytest.mark.parametrize(("funded", "daily_limit", "refusal"), [
    ("1000.000", "10000.000", "insufficient_funds"),  # the balance runs out first
    ("5000.000", "1000.000", "daily_limit_exceeded"),  # the daily limit runs out first
])
def test_concurrent_spending_stops_exactly_at_the_first_limit(funded, daily_limit, refusal):
    owner = UserFactory()
    source = AccountFactory(owner=owner, funded=Decimal(funded), daily_limit=Decimal(daily_limit))
    target = AccountFactory(owner=owner)
    token = bearer(owner)

    def work(index):
        status, response = post(token, "/transfers/internal/",
                                {"sender_account": source.pk, "receiver_account": target.pk, "amount": "100.000"})
        return status, (response.json().get("error") or {}).get("code")

    results = run_threads(40, work)
    assert sorted(status for status, _ in results) == [201] * 10 + [422] * 30
    assert {code for status, code in results if status == 422} == {refusal}
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.balance == Decimal(funded) - 1000 and target.balance == Decimal("1000.000")
    assert source.spent_amount == Decimal("1000.000")
    verify_ledger()


def test_same_idempotency_key_sent_concurrently_moves_money_once():
    owner = UserFactory()
    source = AccountFactory(owner=owner, funded=Decimal("1000.000"))
    target = AccountFactory()
    token = bearer(owner)
    body = {"sender_account": source.pk, "receiver_account": target.pk, "amount": "10.000"}

    def work(index):
        status, response = post(token, "/transfers/external/", body, HTTP_IDEMPOTENCY_KEY="once-only")
        return status, response.headers.get("Idempotent-Replayed"), response.json()

    results = run_threads(20, work)
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    fresh = [r for r in results if r[0] == 201 and r[1] is None]
    replays = [r for r in results if r[0] == 201 and r[1] == "true"]
    assert len(fresh) == 1
    assert all(r[2] == fresh[0][2] for r in replays)
    assert Transaction.objects.filter(kind="external").count() == 1
    source.refresh_from_db()
    assert source.balance == Decimal("1000.000") - Decimal("10.100")
    verify_ledger()


def test_many_accounts_many_directions_conserve_money():
    users = [UserFactory() for _ in range(4)]
    accounts = []
    for user in users:
        for type_ in ("Savings", "USD", "EUR"):
            account = AccountFactory(owner=user, type=type_)
            fund(account, Decimal("500"))
            accounts.append(account)
    tokens = {user.pk: bearer(user) for user in users}

    def work(index):
        codes = []
        for step in range(12):
            sender = accounts[(index + step) % len(accounts)]
            receiver = accounts[(index * 5 + step * 7 + 1) % len(accounts)]
            if sender.pk == receiver.pk:
                continue
            amount = "1.000" if sender.currency == "JOD" else "1.00"
            status, _ = post(tokens[sender.owner_id], "/transfers/external/",
                             {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount})
            codes.append(status)
        return codes

    codes = [code for batch in run_threads(12, work) for code in batch]
    assert set(codes) == {201}
    assert not Account.objects.filter(balance__lt=0).exists()
    verify_ledger()
