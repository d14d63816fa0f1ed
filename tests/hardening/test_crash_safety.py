"""Crash safety: the real server under concurrent transfers, killed with SIGKILL mid-load, restarted.

gunicorn runs as its own process group against this test's database. Client threads send
transfers (internal and external, cross-currency, all with idempotency keys) until enough have
been acknowledged, then the whole server (master and workers) is SIGKILLed while requests are in
flight. After a restart:

* ``verify_ledger`` passes: every balance equals its entries, every transaction balances;
* every balance equals the effect of the transactions in the database (its opening deposit included)
  (no balance moved without a transaction row, no transaction without its balance moves);
* every 201 the client received is in the database, SUCCESS, and replays identically;
* a request whose answer was lost in the crash, retried with its key, is applied exactly once;
* a refused request left no transaction.
"""

import json
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Q

from api.models import Account, IdempotencyRecord, Transaction
from tests.factories import AccountFactory, StaffFactory, UserFactory
from tests.world import bearer

from .server import ROOT, Server, end_server_sessions, request

OPENING = {"JOD": Decimal("500.000"), "USD": Decimal("500.00"), "EUR": Decimal("500.00")}
CUSTOMERS = 4
THREADS = 6
ACKNOWLEDGED_BEFORE_KILL = 40


@dataclass
class Sent:
    user: object
    headers: dict
    path: str
    body: dict
    key: str


@dataclass
class Outcomes:
    acknowledged: dict = field(default_factory=dict)  # key -> (Sent, response body)
    refused: dict = field(default_factory=dict)  # key -> (Sent, status)
    unknown: dict = field(default_factory=dict)  # key -> Sent: in flight when the server died
    unsent: dict = field(default_factory=dict)  # key -> Sent: connection refused
    server_errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_request(rng: random.Random, customers: list, key: str) -> Sent:
    owner, accounts, auth = rng.choice(customers)
    sender = rng.choice(accounts)
    if rng.random() < 0.5:
        kind, receiver = "internal", rng.choice([a for a in accounts if a.pk != sender.pk])
    else:
        kind = "external"
        receiver = rng.choice([a for other, accs, _ in customers if other != owner for a in accs])
    places = 3 if sender.currency == "JOD" else 2
    amount = Decimal(rng.randint(50, 900)).scaleb(-places)
    if rng.random() < 0.1:  # over the balance and the daily limit: refused, must write nothing
        amount = Decimal("20000")
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": str(amount)}
    return Sent(owner, {**auth, "Idempotency-Key": key}, f"/transfers/{kind}/", body, key)


def load(port: int, customers: list, outcomes: Outcomes, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    n = 0
    while not stop.is_set():
        n += 1
        sent = make_request(rng, customers, f"crash-{seed}-{n}")
        try:
            status, content, _ = request(port, "POST", sent.path, sent.body, sent.headers)
        except ConnectionRefusedError:  # the server is down: this one was never sent
            with outcomes.lock:
                outcomes.unsent[sent.key] = sent
            time.sleep(0.01)
            continue
        except OSError:  # reset or cut off mid-request: it may or may not have been applied
            with outcomes.lock:
                outcomes.unknown[sent.key] = sent
            continue
        with outcomes.lock:
            if status == 201:
                outcomes.acknowledged[sent.key] = (sent, json.loads(content))
            elif status >= 500:
                outcomes.server_errors.append((status, content[:300]))
            else:
                outcomes.refused[sent.key] = (sent, status)


def effects(accounts: list[Account]) -> dict[str, Decimal]:
    """Each account's balance as the transaction rows say it should be."""
    numbers = [a.pk for a in accounts]
    expected = defaultdict(Decimal)
    for txn in Transaction.objects.filter(Q(sender_account__in=numbers) | Q(receiver_account__in=numbers)):
        expected[txn.sender_account_id] -= txn.amount + txn.fee_amount
        expected[txn.receiver_account_id] += txn.credited_amount
    return expected


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_load_leaves_nothing_half_applied(tmp_path):
    StaffFactory()
    customers = []
    for _ in range(CUSTOMERS):
        owner = UserFactory()
        accounts = [AccountFactory(owner=owner, type=kind, funded=OPENING[currency])
                    for kind, currency in (("Savings", "JOD"), ("USD", "USD"), ("EUR", "EUR"))]
        # Tokens minted here: the load threads must not open database connections of their own.
        customers.append((owner, accounts, bearer(owner)))
    all_accounts = [a for _, accs, _ in customers for a in accs]

    server = Server(tmp_path / "gunicorn.log")
    outcomes = Outcomes()
    stop = threading.Event()
    try:
        server.start()
        threads = [threading.Thread(target=load, args=(server.port, customers, outcomes, stop, seed))
                   for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(outcomes.acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # mid-load: requests are in flight in every worker
        killed_with = len(outcomes.acknowledged)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert killed_with >= ACKNOWLEDGED_BEFORE_KILL, "the load never got going"
        assert outcomes.unknown, "no request was in flight when the server was killed"
        assert not outcomes.server_errors, outcomes.server_errors[:5]

        server.start()
        # Nothing half-applied, and the ledger explains every balance.
        call_command("verify_ledger")
        rows = effects(all_accounts)
        for account in Account.objects.filter(pk__in=[a.pk for a in all_accounts]):
            assert account.balance == rows[account.pk], account.pk  # the opening deposit is a transaction too

        # Every acknowledged transfer is there, as acknowledged, and replays byte for byte.
        for key, (sent, body) in outcomes.acknowledged.items():
            txn = Transaction.objects.get(pk=body["id"])
            assert (txn.status, txn.idempotency_key, txn.amount) == ("SUCCESS", key, Decimal(body["amount"]))
            assert txn.entries.exists()
            status, content, headers = request(server.port, "POST", sent.path, sent.body, sent.headers)
            assert (status, json.loads(content)) == (201, body)
            assert headers.get("Idempotent-Replayed") == "true"

        # A refused request wrote nothing.
        for key, (sent, _) in outcomes.refused.items():
            assert not Transaction.objects.filter(idempotency_key=key, initiated_by=sent.user).exists(), key

        # Answers lost in the crash: retried with the same key, applied exactly once.
        for key, sent in {**outcomes.unknown, **outcomes.unsent}.items():
            status, content, _ = request(server.port, "POST", sent.path, sent.body, sent.headers)
            applied = Transaction.objects.filter(idempotency_key=key, initiated_by=sent.user)
            if status == 201:
                assert [str(t.pk) for t in applied] == [json.loads(content)["id"]], key
            else:
                assert 400 <= status < 500 and not applied.exists(), (key, status, content)
        assert IdempotencyRecord.objects.filter(response_status__isnull=True).count() == 0
        assert outcomes.refused, "no refused request was exercised"
        # The operator's check, exactly as it would be run after an incident.
        verify = subprocess.run([sys.executable, "manage.py", "verify_ledger"], cwd=ROOT, env=server.env,
                                capture_output=True, text=True, timeout=120)
        assert verify.returncode == 0, verify.stderr
        print(f"killed after {killed_with} acknowledged; {len(outcomes.acknowledged)} acknowledged, "  # noqa: T201
              f"{len(outcomes.refused)} refused, {len(outcomes.unknown)} in flight at the kill, "
              f"{len(outcomes.unsent)} refused connections")
    finally:
        stop.set()
        server.stop()
        end_server_sessions()
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
