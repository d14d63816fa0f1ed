"""The back office for v1.2: tellers see 2FA status and notifications; blocking and ending sessions take
a reason and a confirmation, and run the API's services (audited, effective at once)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.test import Client, RequestFactory

from api import roles
from api.models import AuditRecord, Notification, User
from api.services.transfers import transfer_external
from api.services.users import user_block
from nexus import errors
from risk.models import LoginEvent
from tests.conftest import auth_client
from tests.factories import PASSWORD, AccountFactory, StaffFactory, UserFactory, enrol

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


def _failures(email: str) -> tuple[int, int]:
    attempt = AccessAttempt.objects.filter(username=email).first()
    return (attempt.failures_since_start if attempt else 0,
            LoginEvent.objects.filter(attempted_email=email, successful=False).count())


def test_a_blocked_staff_member_with_the_right_password_is_told_the_account_is_blocked():
    member = StaffFactory(roles=[roles.TELLER])
    user_block(actor=StaffFactory(roles=[roles.SUPERVISOR]), user_id=member.pk, reason="left the bank")

    wrong = Client().post("/admin/login/", {"username": member.email, "password": "not-the-password-1"})
    assert "Please enter the correct" in wrong.content.decode() and "blocked by the bank" not in wrong.content.decode()
    assert _failures(member.email) == (1, 1)

    right = Client().post("/admin/login/", {"username": member.email, "password": PASSWORD})
    page = right.content.decode()
    assert right.status_code == 200 and "_auth_user_id" not in right.client.session
    assert "This account is blocked by the bank. Contact a supervisor" in page
    assert "Please enter the correct" not in page
    assert _failures(member.email) == (2, 2)  # counted once, as a wrong password is


def test_a_customers_page_lists_what_each_notification_said_in_amman_time(django_capture_on_commit_callbacks):
    alice, bob = UserFactory(first_name="Alice"), UserFactory()
    sender, receiver = AccountFactory(owner=alice, funded=Decimal("500.000")), AccountFactory(owner=bob)
    with time_machine.travel(dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.UTC), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        txn = transfer_external(user=alice, sender_number=sender.pk, receiver_number=receiver.pk,
                                amount=Decimal("75.500"))
    page = staff_client(roles.TELLER).get(f"/admin/api/user/{alice.pk}/change/").content.decode()
    table = page[page.index('id="notifications-table"'):page.index("All notifications")]
    assert table.count("Money sent") == 1  # the kind, not the title again
    assert f"75.500 JOD sent from {sender.pk} to {receiver.pk}." in table
    assert f'href="/admin/api/account/{sender.pk}/change/"' in table
    assert f'href="/admin/api/transaction/{txn.pk}/change/"' in table
    assert "2026-03-01 10:30" in table and "Unread" in table
    joined = alice.date_joined.astimezone(ZoneInfo("Asia/Amman"))
    assert f">{joined:%Y-%m-%d %H:%M}</span>" in page[page.index("Joined:"):]  # as every other time

    listing = staff_client(roles.TELLER).get("/admin/api/notification/").content.decode()
    assert f"75.500 JOD sent from {sender.pk} to {receiver.pk}." in listing
    assert f"75.500 JOD received on {receiver.pk}." in listing
    assert "icon-no.svg" not in listing and "icon-yes.svg" not in listing


def test_block_pages_name_the_user_and_the_list_says_blocked_since_in_words():
    customer = UserFactory(email="bob@example.com", first_name="Bob", last_name="Haddad")
    client = staff_client(roles.SUPERVISOR)
    url = f"/admin/api/user/{customer.pk}/block/control/"
    assert "<h1>Block Bob Haddad (bob@example.com)</h1>" in client.get(url).content.decode()
    confirm = client.post(url, {"reason": "phone stolen"}).content.decode()
    assert "<h1>Confirm: Block Bob Haddad (bob@example.com)</h1>" in confirm
    assert "Bob Haddad (bob@example.com)" in confirm[confirm.index('id="control-user"'):]

    with time_machine.travel(dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC), tick=False):  # 2 March in Amman
        client.post(url, {"reason": "phone stolen", "confirm": "1"})
    listing = client.get("/admin/api/user/").content.decode()
    listing = listing[listing.index('id="result_list"'):]
    row = listing[listing.index("bob@example.com"):]
    row = row[:row.index("</tr>")]
    assert "Blocked since 2026-03-02" in row and "icon-yes.svg" not in row.split("field-blocked_cell")[1]
    others = listing[:listing.index("bob@example.com")]
    assert "Blocked since" not in others


def test_the_log_entry_says_what_was_done_to_the_user():
    customer = UserFactory()
    client = staff_client(roles.SUPERVISOR)
    for action, reason in (("block", "phone stolen"), ("unblock", "phone found"), ("revoke", "new phone")):
        client.post(f"/admin/api/user/{customer.pk}/{action}/control/", {"reason": reason, "confirm": "1"})
    messages = [entry.get_change_message() for entry in LogEntry.objects.order_by("action_time", "pk")]
    assert messages == ["Blocked: phone stolen", "Unblocked: phone found", "Ended every session: new phone"]
    home = client.get("/admin/").content.decode()
    recent = home[home.index('id="recent-actions-module"'):]
    assert "Blocked: phone stolen" in recent and "Ended every session: new phone" in recent


def test_a_refusal_in_the_admin_is_an_html_page_and_the_api_keeps_its_json():
    supervisor = StaffFactory(roles=[roles.SUPERVISOR])
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/api/auditrecord/")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "You do not have permission to view this page" in text and 'href="/admin/"' in text
    assert "Nexus Bank back office" in text and 'id="logout-form"' in text  # the admin's own header

    customer = UserFactory()
    api = auth_client(customer).post(f"/users/{customer.pk}/block/", {"reason": "x"}, format="json")
    assert api.status_code == 403 and api.json()["error"]["code"] == "permission_denied"
    for path in ("/accounts/", "/admin-like/"):
        request = RequestFactory().get(path)
        request.user = customer
        response = errors.permission_denied(request)
        assert response["Content-Type"] == "application/json" and b'"permission_denied"' in response.content


def test_every_error_under_the_admin_is_a_page_in_its_look():
    """Not only the 403: an unknown admin address is the admin's own 404 page; the API's stays JSON."""
    client = Client()
    client.force_login(StaffFactory(roles=[roles.TELLER]))
    page = client.get("/admin/api/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "Page not found" in page.content.decode() and 'id="logout-form"' in page.content.decode()
    api = client.get("/no-such-page/")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
