"""A failing reaction never turns committed work into an error for the client, and is never lost (v1.3)."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
import time_machine

from api.ledger_checks import find_discrepancies
from api.models import Account, Notification, Transaction
from api.signals import money_moved
from business import services as business
from nexus import jobs
from nexus.models import Job
from risk.models import Incident
from tests.factories import PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit callbacks really run

NIGHT = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)  # 00:30 in Amman: risk screening raises an incident


def broken(*args, **kwargs):
    raise RuntimeError("metrics store unavailable")


def failures(caplog):
    return [r for r in caplog.records if r.name == "nexus.aftercommit" and r.levelno == logging.ERROR]


def job_failures(caplog):
    return [r for r in caplog.records if r.name == "nexus.jobs" and r.levelno == logging.ERROR]


def test_a_failing_reaction_keeps_the_201_and_is_carried_out_once_when_it_works_again(client_for, user,
                                                                                       monkeypatch, caplog):
    """v1.3: a reaction that fails is not dropped. The job stays with its error; the receivers' writes of
    the failed attempt are rolled back together (no half reaction); once the cause is gone, the worker
    carries it out, exactly once."""
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory()
    monkeypatch.setattr(business, "record_transactions", broken)  # the business receiver of money_moved
    with time_machine.travel(NIGHT, tick=False):
        response = client_for(user).post("/transfers/external/", {
            "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "10.000",
        }, format="json", HTTP_X_REQUEST_ID="req-after-commit-1")
    assert response.status_code == 201, response.content
    txn_id = response.json()["id"]
    assert Transaction.objects.filter(pk=txn_id, status="SUCCESS").exists()
    assert Account.objects.get(pk=receiver.pk).balance == Decimal("10.000")
    assert find_discrepancies() == []
    job = Job.objects.get(topic="money_moved", key=txn_id)
    assert job.attempts == 1 and "metrics store unavailable" in job.last_error
    assert job_failures(caplog)
    # All or nothing: the screening and the notifications of the failed attempt were rolled back too.
    assert not Incident.objects.filter(code="unusual_hour", user=user).exists()
    assert not Notification.objects.filter(data__transaction_id=txn_id).exists()
    monkeypatch.undo()
    Job.objects.filter(pk=job.pk).update(available_at=job.created_at)  # its retry is due
    with time_machine.travel(NIGHT, tick=False):
        assert jobs.drain_all() == 1
    assert Incident.objects.filter(code="unusual_hour", user=user).count() == 1
    assert business.MetricEvent.objects.filter(transaction_id=txn_id).count() == 1
    assert Notification.objects.filter(data__transaction_id=txn_id).count() == 2
    assert not Job.objects.exists()
    assert jobs.drain_all() == 0  # nothing twice


def test_a_job_that_keeps_failing_is_kept_for_staff_and_never_holds_the_others(client_for, staff, monkeypatch):
    accounts = [AccountFactory() for _ in range(3)]
    poisoned = accounts[1]

    def explode(sender, transactions, **kwargs):
        if any(txn.receiver_account_id == poisoned.pk for txn in transactions):
            raise ValueError("cannot handle this one")

    money_moved.connect(explode, dispatch_uid="test.explode", weak=False)
    try:
        for account in accounts:
            response = client_for(staff).post(f"/accounts/{account.pk}/deposit/", {"amount": "5.000"},
                                              format="json")
            assert response.status_code == 201
        for _ in range(jobs.MAX_ATTEMPTS):
            Job.objects.update(available_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            jobs.drain_all()
    finally:
        money_moved.disconnect(dispatch_uid="test.explode")
    [kept] = Job.objects.all()
    assert kept.failed_at is not None and kept.attempts == jobs.MAX_ATTEMPTS
    assert "cannot handle this one" in kept.last_error
    assert Notification.objects.filter(data__account=accounts[0].pk).count() == 1  # the others went through
    assert Notification.objects.filter(data__account=accounts[2].pk).count() == 1
    assert jobs.queue_state() == {"waiting": 0, "failed": 1, "oldest_seconds": 0}
    jobs.retry([kept.pk])  # staff retry it from the admin once the bug is fixed
    assert jobs.drain_all() == 1
    assert Notification.objects.filter(data__account=poisoned.pk).count() == 1


def test_a_failing_refusal_receiver_keeps_the_422(client_for, user, monkeypatch, caplog):
    sender = AccountFactory(owner=user, funded=Decimal("1.000"))
    monkeypatch.setattr(business, "record_refusal", broken)
    response = client_for(user).post("/transfers/external/", {
        "sender_account": sender.pk, "receiver_account": AccountFactory().pk, "amount": "50.000",
    }, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "insufficient_funds")
    # The refusal's fact is a job (contract v1.3): its receiver's failure is the job's, kept for a retry.
    assert len(job_failures(caplog)) == 1
    assert Job.objects.filter(topic="money_refused", failed_at__isnull=True).count() == 1


def test_a_failing_activity_record_does_not_fail_a_login(api_client, user, monkeypatch, caplog):
    monkeypatch.setattr(business, "record_activity", broken)
    response = api_client.post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    [record] = failures(caplog)
    assert record.handler.endswith("test_aftercommit.broken")
