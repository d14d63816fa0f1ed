"""Unlocking a login lockout is audited and has its own permission (audit finding 3).

Before: a Risk analyst unlocked by deleting django-axes rows in axes' own admin ("Delete selected access
attempts"), which wrote no audit record. Now: the Risk app's "Login lockouts" page, an Unlock button asking a
reason and a confirmation, ``risk.services.lockout_unlock`` (audited ``lockout_unlock``), ``risk.unlock_login``.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import Client

from api import roles
from api.exceptions import Forbidden, NotFound
from api.models import AuditRecord
from risk import services
from risk.lockout import UNLOCK_HINT
from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.logins import attempt_login

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # 15:00 in Amman
IP = "203.0.113.9"
LIST = "/admin/risk/loginlockout/"


def lock_out(email):
    for _ in range(5):
        attempt_login(None, email, REMOTE_ADDR=IP)
    locked = attempt_login(None, email, PASSWORD, REMOTE_ADDR=IP)
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "locked_out")
    return AccessAttempt.objects.get(username=email.lower(), ip_address=IP)


def admin_as(role) -> Client:
    client = Client()
    client.user = StaffFactory(roles=[role])
    client.force_login(client.user)
    return client


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("role", [roles.RISK_ANALYST, roles.SUPERVISOR])
def test_unlock_asks_a_reason_and_a_confirmation_is_audited_and_the_login_works(role):
    customer = UserFactory(email="locked.out@example.com")
    email = customer.email.lower()
    with time_machine.travel(START, tick=False) as clock:
        attempt = lock_out(customer.email)
        staff = admin_as(role)
        listed = page(staff.get(LIST))
        assert email in listed and IP in listed
        assert "2026-03-02 15:00" in listed and "2026-03-02 15:30" in listed  # last failure, locked until (Amman)
        unlock = f"{LIST}{attempt.pk}/unlock/"
        assert unlock in listed
        assert 'name="reason"' in page(staff.get(unlock))
        assert "This field is required." in page(staff.post(unlock, {"reason": "  "}))
        confirm = page(staff.post(unlock, {"reason": "Customer called, identified by the branch"}))
        assert 'name="confirm"' in confirm and "Customer called" in confirm
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()  # nothing until confirmed
        clock.shift(dt.timedelta(minutes=2))
        assert attempt_login(None, customer.email, PASSWORD, REMOTE_ADDR=IP).status_code == 429  # still locked, 28 minutes to go
        done = staff.post(unlock, {"reason": "Customer called, identified by the branch", "confirm": "Unlock now"})
        assert done.status_code == 302
        assert not AccessAttempt.objects.filter(username=email).exists()
        assert f"Unlocked: {email} can log in again from {IP}." in page(staff.get(LIST))
        assert email not in page(staff.get(LIST))
        record = AuditRecord.objects.get(action=AuditRecord.Action.LOCKOUT_UNLOCK)
        assert (record.object_type, record.object_id, record.actor_id) == ("lockout", email, staff.user.pk)
        assert record.changes == {"ip": [[IP], None], "failures": [7, 0],  # 5 wrong, then 2 refused while locked
                                  "reason": [None, "Customer called, identified by the branch"]}
        assert attempt_login(None, customer.email, PASSWORD, REMOTE_ADDR=IP).status_code == 200


@pytest.mark.parametrize("role", [roles.TELLER, roles.AUDITOR])
def test_unlock_needs_its_permission(role):
    customer = UserFactory()
    with time_machine.travel(START, tick=False):
        attempt = lock_out(customer.email)
        staff = admin_as(role)
        unlock = f"{LIST}{attempt.pk}/unlock/"
        if role == roles.AUDITOR:  # sees the lockouts (as axes' attempts before), without the button
            assert customer.email in page(staff.get(LIST)) and unlock not in page(staff.get(LIST))
        else:
            assert staff.get(LIST).status_code == 403
        assert staff.get(unlock).status_code == 403
        assert staff.post(unlock, {"reason": "let me in", "confirm": "Unlock now"}).status_code == 403
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
        assert not AuditRecord.objects.filter(action=AuditRecord.Action.LOCKOUT_UNLOCK).exists()
        assert attempt_login(None, customer.email, PASSWORD, REMOTE_ADDR=IP).status_code == 429


def test_axes_own_admin_no_longer_deletes_attempts_unaudited():
    customer = UserFactory()
    with time_machine.travel(START, tick=False):
        attempt = lock_out(customer.email)
        superuser = Client()
        superuser.force_login(StaffFactory(is_superuser=True))
        assert superuser.get("/admin/axes/accessattempt/").status_code == 404
        assert superuser.post("/admin/axes/accessattempt/", {
            "action": "delete_selected", "_selected_action": [str(attempt.pk)], "post": "yes"}).status_code == 404
        # The lockouts page has no delete either, whoever asks.
        assert superuser.get(f"{LIST}{attempt.pk}/delete/").status_code == 403
        assert "delete_selected" not in page(superuser.get(LIST))
        assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_roles_unlock_through_the_permission_not_by_deleting_attempts():
    analyst, supervisor = (Group.objects.get(name=name) for name in (roles.RISK_ANALYST, roles.SUPERVISOR))
    for group in (analyst, supervisor):
        assert group.permissions.filter(content_type__app_label="risk", codename="unlock_login").exists()
    for name in roles.ROLES:
        assert not Group.objects.get(name=name).permissions.filter(content_type__app_label="axes",
                                                                   codename="delete_accessattempt").exists()


def test_the_locked_out_admin_login_says_who_can_unlock():
    member = StaffFactory(roles=[roles.TELLER])
    client = Client(REMOTE_ADDR=IP)
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            client.post("/admin/login/", {"username": member.email, "password": "wrong-password-000"})
        refused = client.post("/admin/login/", {"username": member.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert UNLOCK_HINT.replace("→", "&rarr;") in refused.content.decode() or UNLOCK_HINT in refused.content.decode()


def test_the_service_refuses_ones_own_lockout_and_an_absent_one():
    analyst = StaffFactory(roles=[roles.RISK_ANALYST])
    with time_machine.travel(START, tick=False):
        lock_out(analyst.email)
        with pytest.raises(Forbidden):
            services.lockout_unlock(actor=analyst, email=analyst.email.upper(), ip=IP, reason="it is me")
        with pytest.raises(NotFound):
            services.lockout_unlock(actor=analyst, email="nobody@example.com", ip=IP, reason="typo")
    assert AccessAttempt.objects.filter(username=analyst.email).exists()
    assert not AuditRecord.objects.filter(action=AuditRecord.Action.LOCKOUT_UNLOCK).exists()
