"""Contract v1.3: controls that hold across requests. Each test is an attack from the second outside
audit, done over HTTP as it was done, that the v1.2 code let through."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client, override_settings
from rest_framework.test import APIClient

from api import roles
from api.models import Account, Approval, AuditRecord, TwoFactor, User
from tests.conftest import auth_client
from tests.factories import PASSWORD, AccountFactory, BillerFactory, StaffFactory, UserFactory, enrol, totp_code

from .helpers import error_code, money_snapshot, post_json

# The contract's figures (test settings raise the daily total and the ceiling for every other test).
pytestmark = [pytest.mark.django_db,
              pytest.mark.usefixtures("contract_figures")]


@pytest.fixture
def contract_figures(settings):
    settings.STEP_UP_DAILY_TOTAL, settings.DUAL_CONTROL_CEILING = "2000", "1000000"


def deposit(client, account, amount):
    return post_json(client, f"/accounts/{account.pk}/deposit/", {"amount": amount})


@pytest.fixture
def teller():
    return StaffFactory(roles=[roles.TELLER])


@pytest.fixture
def supervisor():
    return StaffFactory(roles=[roles.SUPERVISOR])


@pytest.fixture
def customer_account():
    return AccountFactory(type=Account.Type.SAVINGS)


# --- 1. a stolen access token takes over the second factor ---------------------------------------

def test_a_stolen_access_token_cannot_enrol_a_second_factor(user):
    thief = auth_client(user)  # the access token alone, no password
    refused = post_json(thief, "/auth/2fa/setup/", {})
    assert refused.status_code == 400 and error_code(refused) == "validation_error"
    wrong = post_json(thief, "/auth/2fa/setup/", {"password": "not-the-password"})
    assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
    assert not TwoFactor.objects.filter(user=user).exists()
    assert post_json(thief, "/auth/2fa/setup/", {"password": PASSWORD}).status_code == 200


def test_a_supervisor_resets_2fa_and_the_customer_gets_back_in(user, supervisor, django_capture_on_commit_callbacks):
    enrol(user)
    customer = auth_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(auth_client(supervisor), f"/users/{user.pk}/reset-2fa/", {"reason": "Lost phone"})
    assert response.status_code == 200 and response.json()["two_factor_enabled"] is False
    assert customer.get("/auth/me/").status_code == 401  # every session ended
    login = post_json(APIClient(), "/auth/jwt/create/", {"email": user.email, "password": PASSWORD})
    assert login.status_code == 200 and "access" in login.json()  # the password alone again
    record = AuditRecord.objects.get(action="twofa_reset")
    assert (record.actor_email, record.object_id) == (supervisor.email, user.email)
    assert user.notifications.filter(kind="security_alert", data__event="two_factor_reset").exists()


def test_only_a_supervisor_resets_2fa_and_never_their_own(user, teller, supervisor):
    enrol(user)
    assert post_json(auth_client(teller), f"/users/{user.pk}/reset-2fa/", {"reason": "x"}).status_code == 403
    own = post_json(auth_client(supervisor), f"/users/{supervisor.pk}/reset-2fa/", {"reason": "x"})
    assert own.status_code == 403 and error_code(own) == "permission_denied"
    assert TwoFactor.objects.filter(user=user).exists()


# --- 3. one teller creates money alone ------------------------------------------------------------

def test_five_deposits_under_the_threshold_are_held_from_the_one_that_passes_it(teller, customer_account):
    client = auth_client(teller)
    answers = [deposit(client, customer_account, "4000.000").status_code for _ in range(5)]
    assert answers == [201, 201, 202, 202, 202]  # 8000 moved; the third took the day past 10000
    customer_account.refresh_from_db()
    assert customer_account.balance == Decimal("8000.000")
    # Another account of the same customer counts too.
    second = AccountFactory(owner=customer_account.owner, type=Account.Type.SALARY)
    assert deposit(client, second, "1.000").status_code == 202


def test_the_day_counts_per_requester_and_customer(teller, customer_account):
    client = auth_client(teller)
    assert deposit(client, customer_account, "9000.000").status_code == 201
    other_customer = AccountFactory()
    assert deposit(client, other_customer, "9000.000").status_code == 201
    assert deposit(auth_client(StaffFactory(roles=[roles.TELLER])), customer_account, "9000.000").status_code == 201
    assert deposit(client, customer_account, "1000.001").status_code == 202


def test_no_staff_member_deposits_into_their_own_account(teller, supervisor):
    for staff in (teller, supervisor):
        own = AccountFactory(owner=staff)
        before = money_snapshot()
        refused = deposit(auth_client(staff), own, "30000.000")
        assert refused.status_code == 403 and error_code(refused) == "permission_denied"
        assert money_snapshot() == before
        assert not Approval.objects.filter(account=own).exists()


def test_no_staff_member_changes_or_reverses_what_is_their_own(teller, supervisor):
    own = AccountFactory(owner=teller, funded=Decimal("100"))
    raised = post_json(auth_client(teller), f"/accounts/{own.pk}/", {"daily_limit": "1000000000"})
    raised = auth_client(teller).patch(f"/accounts/{own.pk}/", {"daily_limit": "1000000000"}, format="json")
    assert raised.status_code == 403 and error_code(raised) == "permission_denied"
    txn = own.incoming.get()
    sup_own = AccountFactory(owner=supervisor, funded=Decimal("100"))
    reversal = post_json(auth_client(supervisor), f"/transfers/{sup_own.incoming.get().pk}/reverse/",
                         {"reason": "mine"})
    assert reversal.status_code == 403
    # A teller's request about a supervisor's account cannot be approved by that supervisor.
    held = post_json(auth_client(teller), f"/transfers/{sup_own.incoming.get().pk}/reverse/", {"reason": "x"})
    assert held.status_code == 202
    approve = post_json(auth_client(supervisor), f"/approvals/{held.json()['approval_id']}/approve/", {})
    assert approve.status_code == 403
    assert txn.status == "SUCCESS"


def test_a_supervisor_cannot_move_a_very_large_sum_alone(supervisor, customer_account):
    client = auth_client(supervisor)
    held = deposit(client, customer_account, "1000000000.000")
    assert held.status_code == 202 and held.json()["status"] == "pending"
    # Nor in pieces: the ceiling counts the day's deposits to the customer as well.
    second_customer = AccountFactory()
    assert deposit(client, second_customer, "600000.000").status_code == 201
    assert deposit(client, second_customer, "600000.000").status_code == 202
    other = StaffFactory(roles=[roles.SUPERVISOR])
    approved = post_json(auth_client(other), f"/approvals/{held.json()['approval_id']}/approve/", {})
    assert approved.status_code == 201


def test_a_tellers_limit_increase_is_held_and_a_decrease_acts_at_once(teller, supervisor, customer_account):
    client = auth_client(teller)
    held = client.patch(f"/accounts/{customer_account.pk}/", {"daily_limit": "1000000000"}, format="json")
    assert held.status_code == 202
    body = held.json()
    assert (body["action"], body["status"], body["amount"]) == ("limit_change", "pending", "1000000000.000")
    customer_account.refresh_from_db()
    assert customer_account.daily_limit == Decimal("10000")
    lowered = client.patch(f"/accounts/{customer_account.pk}/", {"daily_limit": "500.000"}, format="json")
    assert lowered.status_code == 200 and lowered.json()["daily_limit"] == "500.000"
    approved = post_json(auth_client(supervisor), f"/approvals/{body['approval_id']}/approve/", {})
    assert approved.status_code == 200 and approved.json()["daily_limit"] == "1000000000.000"
    assert AuditRecord.objects.filter(action="approval_request", changes__action__1="limit_change").exists()


# --- 7. roles are exact -----------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "change", "allowed"), [
    (roles.RISK_ANALYST, {"is_active": False}, True),
    (roles.RISK_ANALYST, {"is_active": True}, False),
    (roles.RISK_ANALYST, {"daily_limit": "1.000"}, False),
    (roles.TELLER, {"is_active": False}, True),
    (roles.TELLER, {"is_active": True}, False),
    (roles.TELLER, {"daily_limit": "1.000"}, True),
    (roles.SUPERVISOR, {"is_active": True}, True),
    (roles.AUDITOR, {"is_active": False}, False),
])
def test_each_role_changes_exactly_what_it_may(role, change, allowed, customer_account):
    if change.get("is_active") is True:
        Account.objects.filter(pk=customer_account.pk).update(is_active=False)
    response = auth_client(StaffFactory(roles=[role])).patch(f"/accounts/{customer_account.pk}/", change,
                                                             format="json")
    assert response.status_code == (200 if allowed else 403), response.json()


def test_an_auditor_writes_nothing_not_even_an_account_of_their_own(customer_account):
    auditor = auth_client(StaffFactory(roles=[roles.AUDITOR]))
    assert post_json(auditor, "/accounts/", {"type": "Savings"}).status_code == 403
    assert deposit(auditor, customer_account, "1.000").status_code == 403
    assert auditor.get("/accounts/").status_code == 200
    assert post_json(auditor, "/notifications/read-all/", {}).status_code == 204  # their own inbox


# --- 11. a blocked requester's pending request --------------------------------------------------------

def test_a_blocked_tellers_pending_deposit_is_cancelled(teller, supervisor, customer_account):
    held = deposit(auth_client(teller), customer_account, "20000.000")
    assert held.status_code == 202
    assert post_json(auth_client(supervisor), f"/users/{teller.pk}/block/", {"reason": "Fired"}).status_code == 200
    approval = Approval.objects.get(pk=held.json()["approval_id"])
    assert approval.status == "cancelled"
    other = StaffFactory(roles=[roles.SUPERVISOR])
    approved = post_json(auth_client(other), f"/approvals/{approval.pk}/approve/", {})
    assert approved.status_code == 422 and error_code(approved) == "already_decided"
    customer_account.refresh_from_db()
    assert customer_account.balance == 0
    assert AuditRecord.objects.filter(action="approval_cancel", object_id=str(approval.pk)).exists()


# --- 12. a login ticket outlives a block ------------------------------------------------------------

def test_a_login_ticket_issued_before_a_block_is_void_after_unblock(user, supervisor):
    secret, _ = enrol(user)
    ticket = post_json(APIClient(), "/auth/jwt/create/", {"email": user.email, "password": PASSWORD}).json()["mfa_token"]
    staff = auth_client(supervisor)
    post_json(staff, f"/users/{user.pk}/block/", {"reason": "Suspicious"})
    post_json(staff, f"/users/{user.pk}/unblock/", {"reason": "Cleared"})
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        verified = post_json(APIClient(), "/auth/2fa/verify/", {"mfa_token": ticket, "code": totp_code(secret)})
    assert verified.status_code == 401 and error_code(verified) == "otp_invalid"


# --- 5. splitting escapes step-up ----------------------------------------------------------------------

@pytest.fixture
def payer():
    user = UserFactory()
    user.secret, _ = enrol(user)
    return user


def test_twenty_small_transfers_without_a_code_do_not_add_up_to_ten_thousand(payer):
    sender = AccountFactory(owner=payer, funded=Decimal("20000"))
    receiver = AccountFactory()
    client = auth_client(payer)
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "499.999"}
    answers = [post_json(client, "/transfers/external/", body) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 201, 403]  # 4 x 499.999 < 2000 <= 5 x
    assert error_code(answers[-1]) == "otp_required" and answers[-1].json()["error"]["details"]["reason"] == \
        "daily_total"
    # From another account of the same user, and as a bill: the same total.
    second = AccountFactory(owner=payer, type=Account.Type.SALARY, funded=Decimal("1000"))
    assert post_json(client, "/transfers/external/", {**body, "sender_account": second.pk,
                                                       "amount": "0.004"}).status_code == 403
    biller = BillerFactory()
    bill = post_json(client, "/bill/", {"account": second.pk, "biller": biller.pk, "amount": "0.004",
                                        "reference": "X"})
    assert bill.status_code == 403
    # With a code it goes, and it does not count towards the total.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)):  # past enrolment's code
        with_code = post_json(client, "/transfers/external/", {**body, "otp": totp_code(payer.secret)})
    assert with_code.status_code == 201, with_code.json()
    # A day later the window is empty again.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=24, seconds=1)):
        later = post_json(auth_client(payer), "/transfers/external/", body)
        assert later.status_code == 201, later.json()


@override_settings(STEP_UP_DAILY_TOTAL="1000")
def test_the_daily_total_is_a_setting(payer):
    sender = AccountFactory(owner=payer, funded=Decimal("5000"))
    body = {"sender_account": sender.pk, "receiver_account": AccountFactory().pk, "amount": "499.999"}
    client = auth_client(payer)
    assert [post_json(client, "/transfers/external/", body).status_code for _ in range(3)] == [201, 201, 403]


# --- 4. ending sessions ends the back office -----------------------------------------------------------

def _admin_login(staff: User) -> Client:
    browser = Client()
    browser.force_login(staff)
    assert browser.get("/admin/").status_code == 200
    return browser


@pytest.mark.parametrize("ending", ["revoke-sessions", "block", "reset-2fa"])
def test_ending_sessions_ends_the_back_office_on_every_worker(ending, teller, supervisor):
    browser = _admin_login(teller)
    response = post_json(auth_client(supervisor), f"/users/{teller.pk}/{ending}/", {"reason": "Left the bank"})
    assert response.status_code in (200, 204)
    assert browser.get("/admin/").status_code == 302  # to the login page: the session is over
    if ending == "block":
        post_json(auth_client(supervisor), f"/users/{teller.pk}/unblock/", {"reason": "Back"})
        assert browser.get("/admin/").status_code == 302  # and it does not come back on unblock


def test_a_deactivated_users_sessions_end(teller, user):
    admin = StaffFactory(is_superuser=True)
    browser = _admin_login(admin)
    customer = auth_client(user)
    page = browser.get(f"/admin/api/user/{user.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"is_active": "", "groups": [], "user_permissions": [], "email": user.email})
    data = {k: v for k, v in data.items() if k not in ("last_login", "date_joined", "is_active")}
    saved = browser.post(f"/admin/api/user/{user.pk}/change/", {**data, "country": user.country})
    assert saved.status_code == 302, saved.content[:2000]
    user.refresh_from_db()
    assert not user.is_active
    assert customer.get("/auth/me/").status_code == 401
    assert AuditRecord.objects.filter(action="user_update", object_id=user.email).exists()


# --- 6. privilege changes leave a trace -------------------------------------------------------------------

def test_giving_a_role_a_permission_is_audited():
    admin = StaffFactory(is_superuser=True)
    browser = _admin_login(admin)
    from django.contrib.auth.models import Group, Permission

    teller_group = Group.objects.get(name=roles.TELLER)
    permissions = [*teller_group.permissions.values_list("pk", flat=True),
                   Permission.objects.get(codename="decide_approval").pk]
    saved = browser.post(f"/admin/auth/group/{teller_group.pk}/change/",
                         {"name": roles.TELLER, "permissions": permissions})
    assert saved.status_code == 302
    record = AuditRecord.objects.get(action="role_change", object_id=roles.TELLER)
    assert "api.decide_approval" in record.changes["permissions"][1]
    assert "api.decide_approval" not in record.changes["permissions"][0]


def test_staff_setting_a_password_is_audited_and_users_are_never_deleted(user):
    admin = StaffFactory(is_superuser=True)
    browser = _admin_login(admin)
    saved = browser.post(f"/admin/api/user/{user.pk}/password/", {
        "password1": "Harbour-Lantern-9931", "password2": "Harbour-Lantern-9931", "set_usable_password": "true"})
    assert saved.status_code == 302
    assert AuditRecord.objects.filter(action="password_reset", object_id=user.email, actor_email=admin.email).exists()
    assert browser.post(f"/admin/api/user/{user.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


# --- the second look (an outside audit of this very code) -------------------------------------------

def test_a_deposit_in_flight_when_its_teller_is_blocked_is_refused_not_left_pending(teller, supervisor,
                                                                                      customer_account):
    """The block commits while the teller's request (authenticated before it) runs: the request meets the
    teller's locked row after the block and is refused; nothing is left for an approver to move."""
    from api.services import users
    from api.services.approvals import staff_deposit

    users.user_block(actor=supervisor, user_id=teller.pk, reason="Fired")
    before = money_snapshot()
    with pytest.raises(Exception) as refused:
        staff_deposit(staff=teller, account_number=customer_account.pk, amount=Decimal("11000"))
    assert getattr(refused.value, "code", None) == "account_blocked"
    assert not Approval.objects.filter(requested_by=teller).exists()
    assert money_snapshot() == before


def test_a_pending_request_of_a_blocked_requester_is_never_run(teller, supervisor, customer_account):
    held = deposit(auth_client(teller), customer_account, "20000.000").json()
    User.objects.filter(pk=teller.pk).update(blocked_at=dt.datetime.now(dt.UTC))  # not through the service
    approved = post_json(auth_client(supervisor), f"/approvals/{held['approval_id']}/approve/", {})
    assert approved.status_code == 422 and error_code(approved) == "already_decided"
    customer_account.refresh_from_db()
    assert customer_account.balance == 0


def test_a_refused_change_in_the_admin_is_a_message_not_a_500(customer_account):
    risk = StaffFactory(roles=[roles.RISK_ANALYST])
    browser = _admin_login(risk)
    Account.objects.filter(pk=customer_account.pk).update(is_active=False)
    response = browser.post(f"/admin/api/account/{customer_account.pk}/change/",
                            {"is_active": "on", "reason": "Asked to", "_save": "Save"}, follow=True)
    assert response.status_code == 200
    customer_account.refresh_from_db()
    assert customer_account.is_active is False
    # A Risk analyst may freeze, not unfreeze: a frozen account's state is shown, not a box to untick.
    page = browser.get(f"/admin/api/account/{customer_account.pk}/change/").content.decode()
    assert 'name="is_active"' not in page


def test_deleting_a_role_is_audited():
    from django.contrib.auth.models import Group, Permission

    admin = StaffFactory(is_superuser=True)
    browser = _admin_login(admin)
    group = Group.objects.create(name="ZBulk")
    group.permissions.add(Permission.objects.get(codename="decide_approval"))
    member = StaffFactory(roles=[])
    member.groups.add(group)
    response = browser.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    record = AuditRecord.objects.get(action="role_change", object_id="ZBulk")
    assert record.changes["permissions"] == [["api.decide_approval"], None]
    assert record.changes["members"] == [[member.email], None]


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_small_payments_from_two_accounts_add_up_as_ten_in_a_row(settings):
    """The attack with threads: ten 450 JOD payments at once, from two accounts of one user, transfers and
    bills mixed. Four fit under 2000 JOD (1800); every other one is asked for a code; nothing else moves."""
    from tests.factories import bearer

    from .test_concurrency import post, run_threads, verify_ledger

    settings.STEP_UP_DAILY_TOTAL = "2000"
    payer = UserFactory()
    accounts = [AccountFactory(owner=payer, funded=Decimal("5000")),
                AccountFactory(owner=payer, type=Account.Type.SALARY, funded=Decimal("5000"))]
    receiver, biller = AccountFactory(), BillerFactory()
    token = bearer(payer)

    def pay(index):
        account = accounts[index % 2]
        if index % 3 == 0:
            return post(token, "/bill/", {"account": account.pk, "biller": biller.pk, "amount": "450.000",
                                          "reference": f"R{index}"})[0]
        return post(token, "/transfers/external/", {"sender_account": account.pk, "receiver_account": receiver.pk,
                                                    "amount": "450.000"})[0]

    answers = run_threads(10, pay)
    assert sorted(answers) == [201] * 4 + [403] * 6, answers
    payer.refresh_from_db()
    assert payer.uncoded_total == Decimal("1800.000")
    verify_ledger()


def test_saving_a_users_page_never_undoes_what_happened_meanwhile(user, supervisor, monkeypatch):
    """Second outside audit: the admin's user form wrote the whole row back as read when the page was
    posted, undoing a block, a password change or the step-up total committed while it was being saved
    (raced by the audit; here the change happens at that very moment, between the form's reading of the
    user and its save)."""
    from django.contrib.auth.hashers import check_password

    from api.admin import UserAdmin
    from api.services import users
    from api.services.sessions import password_change

    original = UserAdmin.save_form

    def meanwhile(self, request, form, change):
        users.user_block(actor=supervisor, user_id=user.pk, reason="Fraud")
        password_change(user=User.objects.get(pk=user.pk), new_password="Quiet-Harbour-7741")
        User.objects.filter(pk=user.pk).update(uncoded_total=Decimal("1500"))
        return original(self, request, form, change)

    admin = StaffFactory(is_superuser=True)
    browser = _admin_login(admin)
    page = browser.get(f"/admin/api/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in ("email", "first_name", "last_name", "country")}
    data.update({"is_active": "on", "first_name": "Renamed"})
    monkeypatch.setattr(UserAdmin, "save_form", meanwhile)
    assert browser.post(f"/admin/api/user/{user.pk}/change/", data).status_code == 302
    user.refresh_from_db()
    assert user.first_name == "Renamed"
    assert user.blocked_at is not None and user.blocked_reason == "Fraud"
    assert check_password("Quiet-Harbour-7741", user.password)
    assert user.uncoded_total == Decimal("1500")


def test_a_reversal_is_requested_once_while_a_request_waits(teller, supervisor, customer_account):
    """Outside look (back office): a teller could request the same reversal twice; the second request waited
    beside the first and failed once the first was approved."""
    from api.models import Approval
    from tests.factories import fund

    fund(customer_account, Decimal("40.000"))
    deposit = customer_account.incoming.get()
    first = post_json(auth_client(teller), f"/transfers/{deposit.pk}/reverse/", {"reason": "typo"})
    assert first.status_code == 202
    again = post_json(auth_client(teller), f"/transfers/{deposit.pk}/reverse/", {"reason": "typo again"})
    assert again.status_code == 422 and error_code(again) == "already_reversed"
    assert "waits for approval" in again.json()["error"]["message"]
    assert Approval.objects.filter(target_transaction=deposit, status=Approval.Status.PENDING).count() == 1
