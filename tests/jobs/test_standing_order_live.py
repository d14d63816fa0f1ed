"""Contract v1.3, for real: an order due today, created on a live server (gunicorn) beside a job worker
(``manage.py run_worker``), runs within 60 seconds: its run, its transfer and the customer's notification."""

import json
import time
from decimal import Decimal

import pytest

from api.bankday import bank_day
from tests.factories import AccountFactory, StaffFactory, UserFactory
from tests.hardening.server import NO_EAGER, Server, Worker, end_server_sessions, request
from tests.world import bearer

pytestmark = [pytest.mark.django_db(transaction=True)]


def get(port, path, auth):
    status, body, _ = request(port, "GET", path, headers=auth)
    assert status == 200, (path, status, body)
    return json.loads(body)


def test_an_order_due_today_runs_within_a_minute_on_a_live_server(tmp_path):
    StaffFactory()
    alice, bob = UserFactory(), UserFactory()
    sender, receiver = AccountFactory(owner=alice, funded=Decimal("500")), AccountFactory(owner=bob)
    auth = bearer(alice)
    server, worker = Server(tmp_path / "gunicorn.log", **NO_EAGER), Worker(tmp_path / "worker.log")
    try:
        server.start()
        worker.start()
        status, body, _ = request(server.port, "POST", "/standing-orders/", {
            "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "20.000", "description": "Rent",
            "interval": "monthly", "first_date": bank_day().isoformat()}, auth)
        created = time.monotonic()
        assert status == 201, body
        order = json.loads(body)["id"]
        runs = []
        while not runs and time.monotonic() - created < 60:
            runs = get(server.port, f"/standing-orders/{order}/runs/", auth)["results"]
            time.sleep(0.25)
        elapsed = time.monotonic() - created
        assert runs and runs[0]["status"] == "succeeded", (runs, (tmp_path / "worker.log").read_text()[-3000:])
        transfer = get(server.port, f"/transfers/{runs[0]['transaction_id']}/", auth)
        assert (transfer["kind"], transfer["amount"], transfer["fee_amount"], transfer["sender_balance_after"]) == (
            "external", "20.000", "0.200", "479.800")
        told = False  # the transfer's own reactions are the worker's next batch: a moment later
        while not told and time.monotonic() - created < 60:
            told = ("transfer_out", transfer["id"]) in [(n["kind"], n["data"].get("transaction_id"))
                                                        for n in get(server.port, "/notifications/", auth)["results"]]
            time.sleep(0.25)
        assert told and elapsed < 60
        print(f"standing order ran {elapsed:.1f} s after its creation")
    finally:
        worker.stop()
        server.stop()
        end_server_sessions()
