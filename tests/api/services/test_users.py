"""Staff roles, dual control (four eyes) and the audit trail (contract v1.1)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from api import roles
from api.models import Account, Approval, AuditRecord, Transaction
from api.services.approvals import approval_approve, staff_deposit
from tests.api.helpers import error_code, money_snapshot, post_json
from tests.api.test_concurrency import post, run_threads, verify_ledger
from tests.factories import AccountFactory, StaffFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def teller(db):
    return StaffFactory(roles=[roles.TELLER])


@pytest.fixture
def supervisor(db):
    return StaffFactory(roles=[roles.SUPERVISOR])


@pytest.fixture
def account(db):
    return AccountFactory(type=Account.Type.SAVINGS, funded=Decimal("100"))


def new_records():
    """Audit records written by the test itself (funding fixtures deposit too)."""
    return AuditRecord.objects.exclude(object_type="transaction", changes__amount__1__in=["100.000", "100.00"],
                                       action="deposit").order_by("id")


def audit_actions() -> list[str]:
    return list(new_records().values_list("action", flat=True))


# --- the audit trail ------------------------------------------------------------------------

def test_audit_records_are_append_only_in_the_database(staff, account):
    AuditRecord.objects.create(actor=staff, actor_email=staff.email, action="deposit", object_type="transaction",
                               object_id="x")
    count = AuditRecord.objects.count()
    for statement in ("UPDATE api_auditrecord SET actor_email = 'someone@else'", "DELETE FROM api_auditrecord"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.count() == count
    assert AuditRecord.objects.get(object_id="x").actor_email == staff.email


def test_a_deposit_is_audited_with_actor_ip_and_request_id(client_for, teller, account):
    response = post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "25.000"},
                         HTTP_X_REQUEST_ID="req-audit-1", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 201
    record = new_records().get()
    assert (record.actor_email, record.object_type, record.object_id) == (teller.email, "transaction",
                                                                           response.json()["id"])
    assert record.changes == {"account": [None, account.pk], "amount": [None, "25.000"], "currency": [None, "JOD"],
                              "status": [None, "SUCCESS"]}
    assert (record.ip, record.request_id) == ("127.0.0.1", "req-audit-1")


def test_a_refused_action_leaves_no_audit_record(client_for, teller, account):
    Account.objects.filter(pk=account.pk).update(is_active=False)
    response = post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "25.000"})
    assert response.status_code == 422
    assert not new_records().exists()


def test_audit_list_filters_and_shape(client_for, staff, teller, account):
    post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "1.000"})
    client_for(staff).patch(f"/accounts/{account.pk}/", {"is_active": False}, format="json")
    auditor = client_for(StaffFactory(roles=[roles.AUDITOR]))
    results = auditor.get("/audit/").json()["results"][:2]
    assert [r["action"] for r in results] == ["account_update", "deposit"]  # newest first
    assert set(results[0]) == {"id", "actor", "action", "object_type", "object_id", "changes", "ip", "request_id",
                               "timestamp"}
    assert results[0]["object_id"] == account.pk and results[0]["changes"] == {"is_active": [True, False]}
    by_teller = auditor.get(f"/audit/?actor={teller.email.upper()}").json()["results"]
    assert by_teller and {(r["actor"], r["action"]) for r in by_teller} == {(teller.email, "deposit")}
    assert {r["actor"] for r in auditor.get("/audit/?action=deposit").json()["results"]} >= {teller.email}
    assert len(auditor.get(f"/audit/?object_id={account.pk}").json()["results"]) == 1
    assert auditor.get("/audit/?from=2999-01-01T00:00:00Z").json()["results"] == []
    assert auditor.get("/audit/?action=nonsense").status_code == 400
    assert client_for(teller).get("/audit/").status_code == 403


def test_incident_and_blacklist_changes_are_audited(client_for, staff):
    from risk.models import Incident

    incident = Incident.objects.create(code="velocity", event="x", severity="high", subject="s", dedup_key="k")
    analyst = client_for(StaffFactory(roles=[roles.RISK_ANALYST]))
    assert analyst.patch(f"/risk/incidents/{incident.pk}/", {"status": "resolved", "note": "checked"},
                         format="json").status_code == 200
    blocked = post_json(analyst, "/risk/blacklist/", {"cidr": "198.51.100.0/24", "reason": "abuse"}).json()
    assert analyst.delete(f"/risk/blacklist/{blocked['id']}/").status_code == 204
    assert audit_actions() == ["incident_update", "blacklist_add", "blacklist_remove"]
    update, added, removed = new_records()
    assert update.changes == {"status": ["open", "resolved"], "note": ["", "checked"]}
    assert added.changes == {"cidr": [None, "198.51.100.0/24"], "reason": [None, "abuse"]}
    assert removed.changes == {"cidr": ["198.51.100.0/24", None], "reason": ["abuse", None]}


# --- staff account changes -----------------------------------------------------------------

def test_staff_freeze_and_limit_are_audited_and_bounded(client_for, account):
    teller = client_for(StaffFactory(roles=[roles.TELLER]))
    response = teller.patch(f"/accounts/{account.pk}/", {"is_active": False, "daily_limit": "250.500"},
                            format="json")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["daily_limit"]) == (False, "250.500")
    account.refresh_from_db()
    assert (account.is_active, account.daily_limit, account.balance) == (False, Decimal("250.500"), Decimal("100"))
    assert new_records().get().changes == {"is_active": [True, False], "daily_limit": ["10000.000", "250.500"]}
    # Nothing sent, a bad value, too many decimals, someone's non-customer account: 4xx, nothing changed.
    for body in ({}, {"is_active": "no"}, {"daily_limit": "-1"}, {"daily_limit": "1.0001"}):
        assert teller.patch(f"/accounts/{account.pk}/", body, format="json").status_code == 400, body
    usd = AccountFactory(type=Account.Type.USD)
    assert error_code(teller.patch(f"/accounts/{usd.pk}/", {"daily_limit": "1.001"}, format="json")) == \
        "validation_error"
    house = Account.objects.exclude(role=Account.Role.CUSTOMER).first()
    assert teller.patch(f"/accounts/{house.pk}/", {"is_active": False}, format="json").status_code == 404
    # Setting what is already there records nothing.
    assert teller.patch(f"/accounts/{account.pk}/", {"is_active": False}, format="json").status_code == 200
    assert new_records().count() == 1


# --- dual control -------------------------------------------------------------------------

@override_settings(DUAL_CONTROL_THRESHOLD="10000")
def test_a_large_teller_deposit_waits_for_a_supervisor(client_for, teller, supervisor):
    account = AccountFactory(type=Account.Type.SAVINGS, funded=Decimal("100"))
    Transaction.objects.filter(kind="deposit", initiated_by=teller).update(initiated_by=supervisor)  # not the teller's
    small = post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "10000.000"})
    assert small.status_code == 201  # at the threshold: not above it
    before = money_snapshot()
    response = post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "10000.001"},
                         HTTP_IDEMPOTENCY_KEY="big-1")
    assert response.status_code == 202
    body = response.json()
    assert {"approval_id", "status", "action", "amount", "requested_by", "created_at"} <= set(body)
    assert (body["status"], body["action"], body["amount"], body["requested_by"]) == (
        "pending", "deposit", "10000.001", teller.email)
    assert money_snapshot() == before
    # The same key replays the same 202; nothing new is requested.
    again = post_json(client_for(teller), f"/accounts/{account.pk}/deposit/", {"amount": "10000.001"},
                      HTTP_IDEMPOTENCY_KEY="big-1")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (202, body, "true")
    assert Approval.objects.count() == 1

    approved = client_for(supervisor).post(f"/approvals/{body['approval_id']}/approve/")
    assert approved.status_code == 201
    txn = approved.json()
    assert (txn["kind"], txn["amount"], txn["receiver_account"]) == ("deposit", "10000.001", account.pk)
    account.refresh_from_db()
    assert account.balance == Decimal("20100.001")
    assert Transaction.objects.get(pk=txn["id"]).initiated_by_id == teller.pk
    approval = Approval.objects.get()
    assert (approval.status, approval.decided_by_id, str(approval.result_id)) == ("approved", supervisor.pk, txn["id"])
    assert error_code(client_for(supervisor).post(f"/approvals/{body['approval_id']}/approve/")) == "already_decided"
    assert audit_actions() == ["deposit", "approval_request", "deposit", "approval_approve"]
    verify_ledger()


def test_a_supervisor_deposits_at_once_whatever_the_amount(client_for, supervisor, account):
    response = post_json(client_for(supervisor), f"/accounts/{account.pk}/deposit/", {"amount": "50000.000"})
    assert response.status_code == 201 and not Approval.objects.exists()


def test_a_teller_reversal_is_a_request_and_a_rejection_moves_nothing(client_for, teller, supervisor):
    sender = AccountFactory(type=Account.Type.SAVINGS, funded=Decimal("100"))
    receiver = AccountFactory(type=Account.Type.USD)
    txn = post_json(client_for(sender.owner), "/transfers/external/", {
        "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "10.000"}).json()
    before = money_snapshot()
    response = post_json(client_for(teller), f"/transfers/{txn['id']}/reverse/", {"reason": "customer complaint"})
    assert response.status_code == 202
    approval_id = response.json()["approval_id"]
    assert (response.json()["action"], response.json()["transaction_id"]) == ("reversal", txn["id"])
    assert money_snapshot() == before
    listed = client_for(teller).get("/approvals/?status=pending").json()["results"]
    assert [a["approval_id"] for a in listed] == [approval_id]

    assert post_json(client_for(supervisor), f"/approvals/{approval_id}/reject/", {}).status_code == 400
    rejected = post_json(client_for(supervisor), f"/approvals/{approval_id}/reject/", {"reason": "not justified"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_reason"]) == ("rejected", "not justified")
    assert money_snapshot() == before
    assert Transaction.objects.get(pk=txn["id"]).status == "SUCCESS"
    assert error_code(client_for(supervisor).post(f"/approvals/{approval_id}/approve/")) == "already_decided"
    assert client_for(teller).get("/approvals/?status=pending").json()["results"] == []

    # Requested again and approved: the reversal is posted exactly as a supervisor's own would be.
    approval_id = post_json(client_for(teller), f"/transfers/{txn['id']}/reverse/", {"reason": "again"}
                            ).json()["approval_id"]
    reversal = client_for(supervisor).post(f"/approvals/{approval_id}/approve/")
    assert reversal.status_code == 201 and reversal.json()["kind"] == "reversal"
    assert Transaction.objects.get(pk=txn["id"]).status == "REVERSED"
    assert error_code(post_json(client_for(teller), f"/transfers/{txn['id']}/reverse/", {"reason": "x"})) == \
        "already_reversed"
    verify_ledger()


def test_nobody_approves_their_own_request(client_for, account):
    maker = StaffFactory(roles=[roles.TELLER])
    approval = staff_deposit(staff=maker, account_number=account.pk, amount=Decimal("20000"))
    maker.groups.add(*StaffFactory(roles=[roles.SUPERVISOR]).groups.all())  # promoted meanwhile
    response = client_for(maker).post(f"/approvals/{approval.pk}/approve/")
    assert (response.status_code, error_code(response)) == (403, "permission_denied")
    assert post_json(client_for(maker), f"/approvals/{approval.pk}/reject/", {"reason": "x"}).status_code == 403
    assert Approval.objects.get().status == "pending"
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.filter(pk=approval.pk).update(decided_by=maker)


def test_an_approval_refused_by_the_rules_stays_pending(client_for, teller, supervisor, account):
    approval = staff_deposit(staff=teller, account_number=account.pk, amount=Decimal("20000"))
    Account.objects.filter(pk=account.pk).update(is_active=False)
    response = client_for(supervisor).post(f"/approvals/{approval.pk}/approve/")
    assert (response.status_code, error_code(response)) == (422, "account_inactive")
    assert Approval.objects.get().status == "pending"
    assert audit_actions() == ["approval_request"]


def test_roles_are_enforced_on_staff_money_endpoints(client_for, account):
    auditor = client_for(StaffFactory(roles=[roles.AUDITOR]))
    assert auditor.post(f"/accounts/{account.pk}/deposit/", {"amount": "1.000"}, format="json").status_code == 403
    plain_staff = client_for(StaffFactory(roles=[]))
    assert plain_staff.get("/business/overview/").status_code == 403
    assert plain_staff.get("/risk/incidents/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_at_once_move_money_once():
    teller = StaffFactory(roles=[roles.TELLER])
    supervisors = [StaffFactory(roles=[roles.SUPERVISOR]) for _ in range(4)]
    account = AccountFactory(type=Account.Type.SAVINGS, funded=Decimal("1"))
    approval = staff_deposit(staff=teller, account_number=account.pk, amount=Decimal("50000"))

    results = run_threads(4, lambda i: post(bearer(supervisors[i]), f"/approvals/{approval.pk}/approve/", {}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 422, 422, 422], [r.content for _, r in results]
    assert all(error_code(r) == "already_decided" for status, r in results if status == 422)
    account.refresh_from_db()
    assert account.balance == Decimal("50001")
    assert Transaction.objects.filter(kind="deposit", receiver_account=account, amount=Decimal("50000")).count() == 1
    verify_ledger()


def test_service_refuses_a_decided_request_even_without_http(teller, supervisor, account):
    approval = staff_deposit(staff=teller, account_number=account.pk, amount=Decimal("20000"))
    approval_approve(approver=supervisor, approval_id=approval.pk)
    with pytest.raises(Exception, match="already approved"):
        approval_approve(approver=supervisor, approval_id=approval.pk)


def test_customers_cannot_use_staff_endpoints(client_for, account):
    customer = client_for(UserFactory())
    for method, url in (("post", f"/accounts/{account.pk}/deposit/"), ("patch", f"/accounts/{account.pk}/"),
                        ("get", "/approvals/"), ("get", "/audit/")):
        assert getattr(customer, method)(url, {}, format="json").status_code == 403, url
