"""Two-factor authentication (contract v1.2), with codes computed here as an authenticator app would
(pyotp over the secret the API handed out), never a mocked verifier."""

import datetime as dt
from decimal import Decimal

import pyotp
import pytest
import time_machine
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from api.models import MfaChallenge, Notification, RecoveryCode, TwoFactor
from api.services import mfa
from risk.models import Incident, LoginEvent
from tests.api.helpers import error_code, post_json
from tests.conftest import auth_client
from tests.factories import PASSWORD, AccountFactory, UserFactory, enrol, totp_code
from tests.logins import login

pytestmark = pytest.mark.django_db

# At a step boundary, so "now" and "n steps away" are unambiguous.
T0 = dt.datetime(2026, 5, 4, 10, 0, 0, tzinfo=dt.UTC)


def verify(token, code, client=None):
    return post_json(client or APIClient(), "/auth/2fa/verify/", {"mfa_token": token, "code": code})


def mfa_token(user) -> str:
    response = login(None, user.email)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mfa_required"] is True and set(body) == {"mfa_required", "mfa_token"}
    return body["mfa_token"]


class TestEnrolment:
    def test_setup_confirm_then_login_needs_the_second_factor(self):
        user = UserFactory()
        client = auth_client(user)
        setup = client.post("/auth/2fa/setup/", {"password": PASSWORD}, format="json")
        assert setup.status_code == 200
        secret = setup.json()["secret"]
        assert setup.json()["otpauth_url"].startswith("otpauth://totp/")
        assert pyotp.parse_uri(setup.json()["otpauth_url"]).secret == secret
        # Not active until confirmed: the password alone still logs in.
        assert set(login(None, user.email).json()) == {"access", "refresh"}

        confirm = post_json(client, "/auth/2fa/confirm/", {"code": totp_code(secret)})
        assert confirm.status_code == 200
        codes = confirm.json()["recovery_codes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert RecoveryCode.objects.filter(user=user).count() == 10
        assert not RecoveryCode.objects.filter(code_hash__in=codes).exists()  # hashes only

        token = mfa_token(user)
        with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=30)):  # the next code
            tokens = verify(token, totp_code(secret))
            assert tokens.status_code == 200 and set(tokens.json()) == {"access", "refresh"}
            me = APIClient()
            me.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
            assert me.get("/auth/me/").status_code == 200

    def test_the_secret_is_encrypted_at_rest(self):
        user = UserFactory()
        secret, _ = enrol(user)
        stored = TwoFactor.objects.get(user=user).secret
        assert secret not in stored and secret.lower() not in stored.lower()

    def test_a_wrong_confirmation_code_leaves_2fa_off(self):
        user = UserFactory()
        client = auth_client(user)
        secret = client.post("/auth/2fa/setup/", {"password": PASSWORD}, format="json").json()["secret"]
        wrong = str((int(totp_code(secret)) + 1) % 1_000_000).zfill(6)
        response = post_json(client, "/auth/2fa/confirm/", {"code": wrong})
        assert response.status_code == 400 and error_code(response) == "validation_error"
        assert not mfa.is_enabled(user)

    @pytest.mark.django_db(transaction=True)  # notifications are written after commit
    def test_setup_is_refused_while_on_and_disable_needs_password_and_code(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
            client = auth_client(user)
            assert client.post("/auth/2fa/setup/", {"password": PASSWORD}, format="json").status_code == 400
            bad_password = post_json(client, "/auth/2fa/disable/", {"password": "wrong-" * 3, "code": totp_code(secret)})
            assert bad_password.status_code == 400 and "password" in bad_password.json()["error"]["details"]
            bad_code = post_json(client, "/auth/2fa/disable/", {"password": PASSWORD, "code": "000000"})
            assert bad_code.status_code == 400 and "code" in bad_code.json()["error"]["details"]
            assert mfa.is_enabled(user)
            assert post_json(client, "/auth/2fa/disable/", {"password": PASSWORD, "code": totp_code(secret)}).status_code == 204
        assert not mfa.is_enabled(user)
        assert not RecoveryCode.objects.filter(user=user).exists()
        assert set(login(None, user.email).json()) == {"access", "refresh"}
        events = list(Notification.objects.filter(user=user, kind="security_alert").values_list("data__event", flat=True))
        assert sorted(events) == ["two_factor_off", "two_factor_on"]


class TestCodes:
    def test_a_code_is_accepted_once(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
            code = totp_code(secret)
            assert verify(mfa_token(user), code).status_code == 200
            replay = verify(mfa_token(user), code)
            assert replay.status_code == 401 and error_code(replay) == "otp_invalid"

    def test_one_step_either_side_is_accepted_two_are_not(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        now = T0 + dt.timedelta(minutes=10)
        with time_machine.travel(now, tick=False):
            for steps in (-2, 2):
                response = verify(mfa_token(user), totp_code(secret, now, steps))
                assert response.status_code == 401 and error_code(response) == "otp_invalid", steps
            assert verify(mfa_token(user), totp_code(secret, now, -1)).status_code == 200
            assert verify(mfa_token(user), totp_code(secret, now, +1)).status_code == 200
            # Each step once, and never one older than the last accepted.
            assert verify(mfa_token(user), totp_code(secret, now, 0)).status_code == 401

    def test_recovery_codes_are_single_use(self):
        user = UserFactory()
        _, codes = enrol(user)
        assert verify(mfa_token(user), codes[0]).status_code == 200
        again = verify(mfa_token(user), codes[0])
        assert again.status_code == 401 and error_code(again) == "otp_invalid"
        assert verify(mfa_token(user), codes[1].upper()).status_code == 200  # as typed from a printout
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 2

    def test_recovery_codes_are_not_step_up_codes(self):
        user = UserFactory()
        _, codes = enrol(user)
        assert not mfa.verify_second_factor(user=user, code=codes[0], allow_recovery=False)


class TestTicket:
    def test_mfa_token_expires_after_five_minutes(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        start = T0 + dt.timedelta(hours=1)
        with time_machine.travel(start, tick=False):
            late, in_time = mfa_token(user), mfa_token(user)
        with time_machine.travel(start + dt.timedelta(minutes=4, seconds=59), tick=False):
            assert verify(in_time, totp_code(secret)).status_code == 200
        with time_machine.travel(start + dt.timedelta(minutes=5, seconds=1), tick=False):
            response = verify(late, totp_code(secret, steps=1))
        assert response.status_code == 401 and error_code(response) == "otp_invalid"
        assert "mfa_token" in response.json()["error"]["details"]

    def test_mfa_token_is_single_use_and_stored_hashed(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
            token = mfa_token(user)
            assert not MfaChallenge.objects.filter(token_hash=token).exists()
            assert verify(token, totp_code(secret)).status_code == 200
            assert verify(token, totp_code(secret, steps=1)).status_code == 401

    @pytest.mark.django_db(transaction=True)  # notifications are written after commit
    def test_a_wrong_code_is_a_failed_login_locking_out_like_a_wrong_password(self):
        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
            answers = []
            for _ in range(5):
                answers.append(verify(mfa_token(user), "000000").status_code)
            assert answers == [401, 401, 401, 401, 429]
            assert AccessAttempt.objects.get(username=user.email).failures_since_start == 5
            assert LoginEvent.objects.filter(attempted_email=user.email, successful=False).count() == 5
            assert Incident.objects.filter(code="brute_force").exists()
            # Locked out: the password step refuses, the right code too.
            assert login(None, user.email).status_code == 429
            assert Notification.objects.filter(user=user, data__event="lockout").count() == 1

    def test_a_wrong_code_keeps_nothing_as_a_successful_login(self):
        user = UserFactory()
        enrol(user)
        verify(mfa_token(user), "000000")
        assert not LoginEvent.objects.filter(attempted_email=user.email, successful=True).exists()

    def test_a_blocked_user_cannot_finish_the_login(self, staff):
        from api.services.users import user_block

        user = UserFactory()
        with time_machine.travel(T0, tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
            token = mfa_token(user)
            user_block(actor=staff, user_id=user.pk, reason="fraud")
            response = verify(token, totp_code(secret))
        assert response.status_code == 401 and error_code(response) == "account_blocked"


def test_strangers_second_steps_from_one_address_do_not_throttle_anothers():
    """The second step is throttled per (IP, login ticket), like the first per (IP, email): five bad
    tickets from an office's address must not stop a colleague's login from it."""
    from tests.risk.test_access import rates

    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        secret, _ = enrol(user)
    with rates(login="5/min"), time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        assert [verify(f"someone-elses-ticket-{n}", "123456").status_code for n in range(5)] == [401] * 5
        assert verify(mfa_token(user), totp_code(secret)).status_code == 200


def test_every_locked_out_answer_says_how_long():
    """Whichever surface refuses a locked-out pair (the password step, the second step, a payment's
    step-up), the 429 carries the lockout's length the same way."""
    from django.conf import settings

    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        secret, _ = enrol(user)
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        token = mfa_token(user)
        for _ in range(5):
            verify(token, "000000")
        sender, receiver = AccountFactory(owner=user, funded=Decimal("900")), AccountFactory()
        step_up = post_json(auth_client(user), "/transfers/external/", {
            "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "600.000",
            "otp": totp_code(secret, steps=1)})
        answers = [login(None, user.email), step_up]
    for answer in answers:
        assert answer["Retry-After"] == str(seconds) and answer.json()["error"]["details"] == {"retry_after": seconds}
