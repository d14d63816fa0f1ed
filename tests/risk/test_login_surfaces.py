"""Every login surface feeds the lockout and the login rules alike (contract v1.1).

The JWT endpoint, the Django admin's login form, the API's and the admin's password changes: each
attempt is one LoginEvent, counts towards the same (email, IP) lockout and is screened by the rules.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client, override_settings
from rest_framework.test import APIClient

from api.models import User
from risk.models import Incident, LoginEvent
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # 15:00 in Amman
WRONG = "wrong-password-000"


def api_login(email, password=WRONG, **meta):
    return APIClient().post("/auth/jwt/create/", {"email": email, "password": password}, format="json", **meta)


def admin_login(client, email, password=WRONG, **meta):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password, "next": "/admin/"},
                       **meta)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def events(email):
    return LoginEvent.objects.filter(attempted_email=email.lower())


class TestAdminLogin:
    def test_five_wrong_passwords_lock_the_admin_form_even_for_the_right_one(self):
        staff = StaffFactory()
        client = Client()
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(4):
                assert admin_login(client, staff.email).status_code == 200  # the form again, with its error
            fifth = admin_login(client, staff.email)
            assert fifth.status_code == 429
            right = admin_login(client, staff.email, PASSWORD)
            assert right.status_code == 429
            assert int(right["Retry-After"]) > 0
            assert b"Too many failed login attempts" in right.content
            assert not logged_in(client)
            assert events(staff.email).filter(successful=False).count() == 6
            assert Incident.objects.filter(code="brute_force", subject=staff.email).count() == 1
            clock.shift(dt.timedelta(minutes=31))
            assert admin_login(client, staff.email, PASSWORD).status_code == 302
            assert logged_in(client)
        assert events(staff.email).filter(successful=True, user=staff).count() == 1

    def test_the_admin_form_and_the_api_share_one_lockout(self):
        """axes keys on the email whether the form calls it ``username`` or ``email``, in any case."""
        staff = StaffFactory()
        with time_machine.travel(START, tick=False):
            for index in range(3):
                admin_login(Client(), staff.email.upper() if index else staff.email)
            api_login(staff.email)
            api_login(staff.email.title())
            assert AccessAttempt.objects.get().username == staff.email
            assert api_login(staff.email, PASSWORD).status_code == 429
            assert admin_login(Client(), staff.email, PASSWORD).status_code == 429

    def test_each_attempt_is_recorded_once(self):
        staff = StaffFactory()
        client = Client()
        admin_login(client, staff.email)
        assert events(staff.email).filter(successful=False).count() == 1
        assert admin_login(client, staff.email, PASSWORD).status_code == 302
        assert events(staff.email).filter(successful=True).count() == 1
        assert api_login(staff.email, PASSWORD).status_code == 200
        assert api_login(staff.email).status_code == 401
        assert list(events(staff.email).order_by("timestamp", "id").values_list("successful", flat=True)) == [
            False, True, True, False]

    def test_a_customers_right_password_on_the_admin_form_is_a_failed_login(self):
        customer = UserFactory()
        client = Client()
        response = admin_login(client, customer.email, PASSWORD)
        assert response.status_code == 200 and not logged_in(client)
        assert events(customer.email).get().successful is False
        assert AccessAttempt.objects.get(username=customer.email).failures_since_start == 1

    def test_a_login_post_is_throttled_per_ip(self):
        from django.conf import settings

        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "admin_login": "3/min"}
        with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}), \
                time_machine.travel(START, tick=False):
            codes = [admin_login(Client(), f"probe{n}@example.com").status_code for n in range(5)]
            refused = admin_login(Client(), "probe9@example.com")
            other_ip = admin_login(Client(), "probe9@example.com", REMOTE_ADDR="198.51.100.7")
            page = Client().get("/admin/login/")
        assert codes == [200, 200, 200, 429, 429]
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        assert b"Too many login attempts" in refused.content
        assert other_ip.status_code == 200
        assert page.status_code == 200  # showing the form is not an attempt
        assert LoginEvent.objects.count() == 4  # refused posts never reach the password check

    def test_password_change_posts_count_towards_the_same_limit(self):
        from django.conf import settings

        staff = StaffFactory()
        client = Client()
        client.force_login(staff)
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "admin_login": "2/min"}
        with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}), \
                time_machine.travel(START, tick=False):
            codes = [client.post("/admin/password_change/", {"old_password": WRONG}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert events(staff.email).filter(successful=False).count() == 2


class TestAdminPasswordChange:
    def test_a_wrong_old_password_is_a_failed_login_and_locks_out(self):
        staff = StaffFactory()
        client = Client()
        client.force_login(staff)

        def change(old_password):
            return client.post("/admin/password_change/", {
                "old_password": old_password, "new_password1": "brand-new-passphrase-88",
                "new_password2": "brand-new-passphrase-88"})

        with time_machine.travel(START, tick=False):
            for _ in range(4):
                assert change(WRONG).status_code == 200  # the form again, with its error
            assert events(staff.email).filter(successful=False).count() == 4
            assert change(WRONG).status_code == 429
            locked = change(PASSWORD)
            assert locked.status_code == 429 and b"Too many failed login attempts" in locked.content
            assert api_login(staff.email, PASSWORD).status_code == 429
        staff.refresh_from_db()
        assert staff.check_password(PASSWORD)
        assert Incident.objects.filter(code="brute_force", subject=staff.email).count() == 1

    def test_the_right_old_password_changes_it(self):
        staff = StaffFactory()
        client = Client()
        client.force_login(staff)
        response = client.post("/admin/password_change/", {
            "old_password": PASSWORD, "new_password1": "brand-new-passphrase-88",
            "new_password2": "brand-new-passphrase-88"})
        assert response.status_code == 302
        staff.refresh_from_db()
        assert staff.check_password("brand-new-passphrase-88")
        # The session login of the test client, then the old password's check.
        assert list(events(staff.email).values_list("successful", flat=True)) == [True, True]

    def test_a_new_password_set_in_the_admin_revokes_api_tokens(self):
        staff, customer = StaffFactory(is_superuser=True), UserFactory()
        access = api_login(customer.email, PASSWORD).json()["access"]
        client = Client()
        client.force_login(staff)
        response = client.post(f"/admin/api/user/{customer.pk}/password/", {
            "password1": "reset-by-staff-passphrase-1", "password2": "reset-by-staff-passphrase-1",
            "usable_password": "true"})
        assert response.status_code == 302, response.content
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert api.get("/auth/me/").status_code == 401
        again = api_login(customer.email, "reset-by-staff-passphrase-1").json()["access"]
        response = client.post(f"/admin/api/user/{customer.pk}/password/",
                               {"usable_password": "false", "unset-password": "1"})
        assert response.url.endswith(f"/admin/api/user/{customer.pk}/change/")
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {again}")
        assert api.get("/auth/me/").status_code == 401  # disabling the password revokes too
        assert not User.objects.get(pk=customer.pk).has_usable_password()
        own = client.post("/admin/password_change/", {
            "old_password": PASSWORD, "new_password1": "brand-new-passphrase-88",
            "new_password2": "brand-new-passphrase-88"})
        assert own.status_code == 302
        assert User.objects.get(pk=staff.pk).token_version == 1


class TestPadding:
    def test_successful_logins_cannot_hide_the_failures_that_follow(self):
        """Finding 2: 30 successful logins on owned accounts used to exhaust a per-IP cap on stored
        events; the failures on the victims' emails then left no evidence and no incident."""
        owned = [UserFactory() for _ in range(3)]
        with time_machine.travel(START, tick=False):
            for index in range(36):
                assert api_login(owned[index % 3].email, PASSWORD).status_code == 200
            for victim in ["v1@example.com", "v2@example.com", "v3@example.com"] * 2:
                assert api_login(victim).status_code == 401
        failures = LoginEvent.objects.filter(successful=False)
        assert failures.count() == 6
        assert set(failures.values_list("attempted_email", flat=True)) == {
            "v1@example.com", "v2@example.com", "v3@example.com"}
        assert LoginEvent.objects.filter(successful=True).count() == 36
        incident = Incident.objects.get(code="credential_stuffing")
        assert incident.ip == "127.0.0.1"

    def test_padding_through_the_admin_form_cannot_either(self):
        staff = StaffFactory()
        with time_machine.travel(START, tick=False):
            for _ in range(31):
                assert admin_login(Client(), staff.email, PASSWORD).status_code == 302
            for victim in ["v1@example.com", "v2@example.com", "v3@example.com", "v4@example.com", "v5@example.com"]:
                admin_login(Client(), victim)
        assert LoginEvent.objects.filter(successful=False).count() == 5
        assert Incident.objects.filter(code="credential_stuffing").count() == 1
