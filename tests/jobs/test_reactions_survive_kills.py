"""Contract v1.3: what a committed transfer owes (its notifications, its business fact, its risk
screening) happens exactly once, even if the process that committed it dies the instant after the
commit, and whatever job worker dies mid-batch. Real processes: gunicorn and ``manage.py run_worker``.
"""

import random
import signal
import threading
import time
from decimal import Decimal

import psutil
import pytest
from django.core.management import call_command

from api.models import Notification, Transaction
from business.models import MetricEvent
from nexus.models import Job
from tests.factories import AccountFactory, StaffFactory, UserFactory
from tests.hardening.server import NO_EAGER, Server, Worker, end_server_sessions, request
from tests.world import bearer

pytestmark = [pytest.mark.django_db(transaction=True)]


def wait_for_empty_queue(timeout=60):
    deadline = time.monotonic() + timeout
    while Job.objects.filter(failed_at__isnull=True).exists():
        assert time.monotonic() < deadline, f"{Job.objects.count()} jobs still waiting"
        time.sleep(0.2)
    assert not Job.objects.exists(), list(Job.objects.values("topic", "key", "last_error"))


def assert_each_reaction_once(transactions):
    """One fact, one notification to the sender's owner and one to the receiver's, per transfer."""
    ids = [str(pk) for pk in transactions]
    facts = list(MetricEvent.objects.filter(transaction_id__in=ids).values_list("transaction_id", flat=True))
    assert sorted(map(str, facts)) == sorted(ids), "a transfer without its fact, or one with two"
    notes = list(Notification.objects.filter(data__transaction_id__in=ids).values_list("data__transaction_id",
                                                                                          "kind"))
    per_transfer = {}
    for txn_id, kind in notes:
        per_transfer.setdefault(txn_id, []).append(kind)
    for txn_id in ids:
        assert sorted(per_transfer.get(txn_id, [])) == ["transfer_in", "transfer_out"], txn_id
    return len(facts), len(notes)


def customers(count=4):
    StaffFactory()
    people = []
    for _ in range(count):
        owner = UserFactory()
        accounts = [AccountFactory(owner=owner, funded=Decimal("5000")) for _ in range(2)]
        people.append((owner, accounts, bearer(owner)))
    return people


def transfer_body(rng, people):
    owner, accounts, auth = rng.choice(people)
    receiver = rng.choice([a for other, accs, _ in people if other != owner for a in accs])
    return auth, {"sender_account": rng.choice(accounts).pk, "receiver_account": receiver.pk,
                  "amount": f"{rng.randint(1, 99)}.000"}


def test_the_process_dies_right_after_the_commit_and_nothing_owed_is_lost(tmp_path):
    people = customers(2)
    rng = random.Random(7)
    server = Server(tmp_path / "gunicorn.log", "tests.jobs.dying_settings", **NO_EAGER)
    worker = Worker(tmp_path / "worker.log")
    try:
        server.start()
        committed = []
        for _ in range(3):
            auth, body = transfer_body(rng, people)
            with pytest.raises(OSError):  # the process died before answering
                request(server.port, "POST", "/transfers/external/", body, auth)
            time.sleep(0.5)  # gunicorn starts a new worker
        committed = list(Transaction.objects.filter(kind="external").values_list("pk", flat=True))
        assert len(committed) == 3, "each transfer committed before its process died"
        assert Job.objects.filter(topic="money_moved").count() == 3  # owed, recorded with the transfer
        assert not MetricEvent.objects.filter(transaction_id__in=committed).exists()
        worker.start()
        wait_for_empty_queue()
        assert_each_reaction_once(committed)
    finally:
        worker.stop()
        server.stop()
        end_server_sessions()


def test_workers_killed_under_load_lose_nothing_and_repeat_nothing(tmp_path):
    people = customers()
    server = Server(tmp_path / "gunicorn.log", **NO_EAGER)
    worker = Worker(tmp_path / "worker.log")
    stop = threading.Event()
    acknowledged, kills = [], {"gunicorn": 0, "job worker": 0}

    def load(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            auth, body = transfer_body(rng, people)
            try:
                status, content, _ = request(server.port, "POST", "/transfers/external/", body, auth)
            except OSError:
                continue
            if status == 201:
                acknowledged.append(content)

    try:
        server.start()
        worker.start()
        threads = [threading.Thread(target=load, args=(seed,)) for seed in range(6)]
        for thread in threads:
            thread.start()
        rng = random.Random(1)
        deadline = time.monotonic() + 30  # the 30 s of load, a kill of each kind every 2 s
        while time.monotonic() < deadline:
            time.sleep(2)
            children = psutil.Process(server.process.pid).children()
            if children:
                rng.choice(children).send_signal(signal.SIGKILL)  # a web worker, mid-request
                kills["gunicorn"] += 1
            worker.kill()  # the job worker, mid-batch or between batches
            kills["job worker"] += 1
            worker.start()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        wait_for_empty_queue()
        committed = list(Transaction.objects.filter(kind="external").values_list("pk", flat=True))
        assert len(committed) >= len(acknowledged) > 50, (len(committed), len(acknowledged))
        facts, notes = assert_each_reaction_once(committed)
        call_command("verify_ledger")
        print(f"{len(committed)} committed ({len(acknowledged)} acknowledged), {facts} facts, "  # noqa: T201
              f"{notes} notifications, kills: {kills}")
    finally:
        stop.set()
        worker.stop()
        server.stop()
        end_server_sessions()
