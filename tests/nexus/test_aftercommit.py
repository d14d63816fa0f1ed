"""A failing after-commit handler never turns committed work into an error for the client."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
import time_machine

from api.ledger_checks import find_discrepancies
from api.models import Account, Transaction
from api.signals import money_moved
from business import services as business
from risk.models import Incident
from tests.factories import PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit callbacks really run

NIGHT = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)  # 00:30 in Amman: risk screening raises an incident


def broken(*args, **kwargs):
    raise RuntimeError("metrics store unavailable")


def failures(caplog):
    return [r for r in caplog.records if r.name == "nexus.aftercommit" and r.levelno == logging.ERROR]


def test_a_failing_receiver_after_a_transfer_still_answers_201(client_for, user, monkeypatch, caplog):
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory()
    monkeypatch.setattr(business, "record_transaction", broken)  # the first money_moved receiver
    with time_machine.travel(NIGHT, tick=False):
        response = client_for(user).post("/transfers/external/", {
            "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "10.000",
        }, format="json", HTTP_X_REQUEST_ID="req-after-commit-1")
    assert response.status_code == 201, response.content
    assert Transaction.objects.filter(pk=response.json()["id"], status="SUCCESS").exists()
    assert Account.objects.get(pk=receiver.pk).balance == Decimal("10.000")
    assert find_discrepancies() == []
    # The receivers after the failing one still ran: the night transfer was screened.
    assert Incident.objects.filter(code="unusual_hour", user=user).exists()
    [record] = failures(caplog)
    assert record.request_id == "req-after-commit-1"
    assert record.handler == "business.signals.on_money_moved"
    assert "metrics store unavailable" in str(record.exc_info[1])


def test_a_receiver_that_raises_cannot_make_a_deposit_a_500(client_for, staff, caplog):
    account = AccountFactory()

    def explode(sender, transaction, **kwargs):
        raise ValueError(f"cannot handle {transaction.pk}")

    money_moved.connect(explode, dispatch_uid="test.explode", weak=False)
    try:
        response = client_for(staff).post(f"/accounts/{account.pk}/deposit/", {"amount": "5.000"}, format="json",
                                          HTTP_IDEMPOTENCY_KEY="slip-1")
    finally:
        money_moved.disconnect(dispatch_uid="test.explode")
    assert response.status_code == 201
    assert Account.objects.get(pk=account.pk).balance == Decimal("5.000")
    [record] = failures(caplog)
    assert record.request_id == response["X-Request-ID"]
    # The stored answer is replayed: a retry with the key does not deposit twice.
    again = client_for(staff).post(f"/accounts/{account.pk}/deposit/", {"amount": "5.000"}, format="json",
                                   HTTP_IDEMPOTENCY_KEY="slip-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Account.objects.get(pk=account.pk).balance == Decimal("5.000")


def test_a_failing_refusal_receiver_keeps_the_422(client_for, user, monkeypatch, caplog):
    sender = AccountFactory(owner=user, funded=Decimal("1.000"))
    monkeypatch.setattr(business, "record_refusal", broken)
    response = client_for(user).post("/transfers/external/", {
        "sender_account": sender.pk, "receiver_account": AccountFactory().pk, "amount": "50.000",
    }, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "insufficient_funds")
    assert len(failures(caplog)) == 1


def test_a_failing_activity_record_does_not_fail_a_login(api_client, user, monkeypatch, caplog):
    monkeypatch.setattr(business, "record_activity", broken)
    response = api_client.post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    [record] = failures(caplog)
    assert record.handler.endswith("test_aftercommit.broken")
