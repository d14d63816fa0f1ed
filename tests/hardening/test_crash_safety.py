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

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from api.models import Account, IdempotencyRecord, Transaction
from api.services.house import ensure_house_accounts
from tests.factories import AccountFactory, StaffFactory, UserFactory

from .conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
OPENING = {"JOD": Decimal("500.000"), "USD": Decimal("500.00"), "EUR": Decimal("500.00")}
CUSTOMERS = 4
THREADS = 6
ACKNOWLEDGED_BEFORE_KILL = 40


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database this test runs on (pytest-django's test database)."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host, port, name = settings_dict["HOST"] or "", settings_dict["PORT"] or "5432", settings_dict["NAME"]
    if host.startswith("/"):  # a Unix socket directory (the embedded server)
        return f"postgres://{credentials}/{quote(name)}?host={quote(host)}&port={port}"
    return f"postgres://{credentials}{host}:{port}/{quote(name)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn in its own session, so SIGKILL reaches the master and every worker at once."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        env.update(DJANGO_SETTINGS_MODULE="nexus.settings.test", DATABASE_URL=database_url(connection.settings_dict),
                   PYTHONUNBUFFERED="1")
        return env

    def start(self, timeout: float = 60) -> None:
        env = self.env
        command = [sys.executable, "-m", "gunicorn", "nexus.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if request(self.port, "GET", "/health/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def end_server_sessions(timeout: float = 15) -> None:
    """Wait for the server's database sessions to go (PostgreSQL notices a dead client lazily).

    Only this test and its server use this test database; what is left after the timeout belongs
    to the killed server and is terminated, so the test database can be flushed and dropped.
    """
    query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(query)
            pids = [row[0] for row in cursor.fetchall()]
            if not pids:
                return
            if time.monotonic() > deadline:
                for pid in pids:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                return
            time.sleep(0.1)


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


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
    ensure_house_accounts()
    StaffFactory()
    customers = []
    for _ in range(CUSTOMERS):
        owner = UserFactory()
        accounts = [AccountFactory(owner=owner, type=kind, funded=OPENING[currency])
                    for kind, currency in (("Savings", "JOD"), ("USD", "USD"), ("EUR", "EUR"))]
        # Tokens minted here: the load threads must not open database connections of their own.
        customers.append((owner, accounts, bearer(owner)))
    all_accounts = [a for _, accs, _ in customers for a in accs]

    server = Server(free_port(), tmp_path / "gunicorn.log")
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
