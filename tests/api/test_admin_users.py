"""The back office for v1.2: tellers see 2FA status and notifications; blocking and ending sessions take
a reason and a confirmation, and run the API's services (audited, effective at once)."""

import pytest
from django.test import Client

from api import roles
from api.models import AuditRecord, Notification, User
from tests.conftest import auth_client
from tests.factories import StaffFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db


def staff_client(*role_names) -> Client:
    client = Client()
    client.force_login(StaffFactory(roles=list(role_names)))
    return client


def test_a_teller_sees_2fa_status_and_notifications_but_cannot_block():
    customer = UserFactory()
    enrol(customer)
    Notification.objects.create(user=customer, kind=Notification.Kind.TRANSFER_IN, title="Money received 7")
    teller = staff_client(roles.TELLER)
    page = teller.get(f"/admin/api/user/{customer.pk}/change/").content.decode()
    assert "On since" in page and "10 of 10 recovery codes unused" in page
    assert "Money received 7" in page
    assert 'id="block-link"' not in page and 'id="revoke-link"' not in page
    assert teller.get(f"/admin/api/user/{customer.pk}/block/control/").status_code == 403
    assert teller.get("/admin/api/notification/").status_code == 200
    listing = teller.get("/admin/api/user/").content.decode()
    assert customer.email in listing


@pytest.mark.parametrize("role", [roles.SUPERVISOR, roles.RISK_ANALYST])
def test_block_asks_a_reason_then_a_confirmation(role):
    customer = UserFactory()
    token_client = auth_client(customer)
    client = staff_client(role)
    url = f"/admin/api/user/{customer.pk}/block/control/"
    assert 'id="block-link"' in client.get(f"/admin/api/user/{customer.pk}/change/").content.decode()
    assert client.get(url).status_code == 200
    missing = client.post(url, {"reason": "  "})
    assert missing.status_code == 200 and "errorlist" in missing.content.decode()
    confirm = client.post(url, {"reason": "phone stolen"})
    assert 'id="user_control_confirm_form"' in confirm.content.decode()
    assert User.objects.get(pk=customer.pk).blocked_at is None  # nothing until confirmed
    done = client.post(url, {"reason": "phone stolen", "confirm": "1"})
    assert done.status_code == 302
    blocked = User.objects.get(pk=customer.pk)
    assert blocked.blocked_at is not None and blocked.blocked_reason == "phone stolen"
    assert token_client.get("/auth/me/").status_code == 401
    assert AuditRecord.objects.filter(object_id=customer.email, action="user_update").count() == 1
    unblock = f"/admin/api/user/{customer.pk}/unblock/control/"
    client.post(unblock, {"reason": "phone found", "confirm": "1"})
    assert User.objects.get(pk=customer.pk).blocked_at is None


def test_ending_sessions_from_the_admin():
    customer = UserFactory()
    token_client = auth_client(customer)
    client = staff_client(roles.SUPERVISOR)
    client.post(f"/admin/api/user/{customer.pk}/revoke/control/", {"reason": "suspicious", "confirm": "1"})
    assert token_client.get("/auth/me/").status_code == 401
    assert User.objects.get(pk=customer.pk).blocked_at is None


def test_the_admin_login_asks_staff_with_2fa_for_their_code():
    import datetime as dt

    import time_machine
    from axes.models import AccessAttempt

    from tests.factories import PASSWORD, totp_code

    member = StaffFactory(roles=[roles.TELLER])
    start = dt.datetime(2026, 8, 3, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        secret, _ = enrol(member)
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        client = Client()
        without = client.post("/admin/login/", {"username": member.email, "password": PASSWORD})
        assert without.status_code == 200 and "authenticator" in without.content.decode()
        assert AccessAttempt.objects.get(username=member.email).failures_since_start == 1
        done = client.post("/admin/login/", {"username": member.email, "password": PASSWORD,
                                             "otp_code": totp_code(secret)})
        assert done.status_code == 302
        assert client.get("/admin/").status_code == 200


def test_a_blocked_staff_members_admin_session_ends_and_login_is_refused():
    from tests.factories import PASSWORD

    member = StaffFactory(roles=[roles.TELLER])
    session = Client()
    session.force_login(member)
    assert session.get("/admin/").status_code == 200
    from api.services.users import user_block

    user_block(actor=StaffFactory(roles=[roles.SUPERVISOR]), user_id=member.pk, reason="left the bank")
    assert session.get("/admin/").status_code == 302  # back to the login page
    refused = Client().post("/admin/login/", {"username": member.email, "password": PASSWORD})
    assert refused.status_code == 200 and "errornote" in refused.content.decode()
