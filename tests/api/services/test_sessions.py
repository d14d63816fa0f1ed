"""Tokens under contract v1.1: password change, revocation, one-time refresh, expired vs invalid."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.models import User
from api.services.sessions import end_sessions, issue_tokens
from risk.models import LoginEvent
from tests.api.helpers import error_code, post_json
from tests.factories import PASSWORD, UserFactory
from tests.logins import login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-new-passphrase-77"
START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def tokens_for(user) -> dict:
    response = login(None, user.email)
    assert response.status_code == 200, response.content
    return response.json()


def me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/auth/me/")


def refresh(token):
    return post_json(APIClient(), "/auth/jwt/refresh/", {"refresh": token})


def change_password(access, current, new=NEW_PASSWORD, **meta):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return post_json(client, "/auth/password/", {"current_password": current, "new_password": new}, **meta)


def assert_401(response, code="token_invalid"):
    assert response.status_code == 401, response.content
    assert error_code(response) == code


class TestPasswordChange:
    def test_changes_the_password_and_revokes_every_token_issued_before(self, user):
        phone, laptop = tokens_for(user), tokens_for(user)
        rotated = refresh(laptop["refresh"]).json()
        response = change_password(phone["access"], PASSWORD)
        assert response.status_code == 204
        assert response.content == b""
        for pair in (phone, rotated):
            assert_401(me(pair["access"]))
            assert_401(refresh(pair["refresh"]))
        assert_401(login(None, user.email), "invalid_credentials")
        fresh = login(None, user.email, NEW_PASSWORD)
        assert fresh.status_code == 200
        assert me(fresh.json()["access"]).status_code == 200

    def test_outstanding_refresh_tokens_are_blacklisted(self, user):
        pairs = [tokens_for(user) for _ in range(3)]
        assert change_password(pairs[0]["access"], PASSWORD).status_code == 204
        assert set(BlacklistedToken.objects.filter(token__user=user).values_list("token__token", flat=True)) == {
            pair["refresh"] for pair in pairs}

    def test_a_wrong_current_password_is_400_and_a_failed_login(self, user):
        access = tokens_for(user)["access"]
        response = change_password(access, "not-my-password-123")
        assert response.status_code == 400
        assert error_code(response) == "validation_error"
        assert "current_password" in response.json()["error"]["details"]
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert me(access).status_code == 200
        failed = LoginEvent.objects.filter(successful=False).get()
        assert failed.attempted_email == user.email
        assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1

    def test_wrong_current_passwords_lock_out_like_logins(self, user):
        with time_machine.travel(START, tick=False):
            access = tokens_for(user)["access"]
            for _ in range(4):
                assert change_password(access, "not-my-password-123").status_code == 400
            fifth = change_password(access, "not-my-password-123")
            assert (fifth.status_code, error_code(fifth)) == (429, "locked_out")
            locked = change_password(access, PASSWORD)
            assert (locked.status_code, error_code(locked)) == (429, "locked_out")
            # One lockout for the (email, IP) pair, whichever surface the failures came through.
            assert login(None, user.email).status_code == 429
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert LoginEvent.objects.filter(successful=False, attempted_email=user.email).count() == 7

    @pytest.mark.parametrize("weak", ["short1!", "password1234", "123456789012345"])
    def test_a_weak_new_password_is_400(self, user, weak):
        access = tokens_for(user)["access"]
        response = change_password(access, PASSWORD, weak)
        assert response.status_code == 400
        assert error_code(response) == "validation_error"
        assert "new_password" in response.json()["error"]["details"]
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert me(access).status_code == 200

    def test_a_new_password_like_the_email_is_refused(self):
        user = UserFactory(email="margaret.hamilton@example.com")
        response = change_password(tokens_for(user)["access"], PASSWORD, "margaret.hamilton")
        assert "new_password" in response.json()["error"]["details"]

    def test_needs_authentication(self, api_client):
        response = post_json(api_client, "/auth/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert_401(response, "not_authenticated")

    @pytest.mark.parametrize("body", [{}, {"current_password": PASSWORD}, {"current_password": 12, "new_password": 3},
                                      {"current_password": PASSWORD, "new_password": "x" * 129}])
    def test_malformed_bodies_are_400_and_no_login_attempt(self, user, body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
        response = post_json(client, "/auth/password/", body)
        assert response.status_code == 400
        assert error_code(response) == "validation_error"
        assert not LoginEvent.objects.filter(successful=False).exists()


class TestRevocation:
    def test_a_stale_copy_saved_later_cannot_revive_revoked_tokens(self, user):
        access = tokens_for(user)["access"]
        stale = User.objects.get(pk=user.pk)
        end_sessions(User.objects.get(pk=user.pk))
        stale.first_name = "Edited"
        stale.save()  # writes every column, token_version included
        assert User.objects.get(pk=user.pk).token_version == stale.token_version + 1
        assert_401(me(access))

    def test_a_remembered_access_token_is_still_checked(self, user):
        """The per-process memo of validated tokens never answers for revocation."""
        access = tokens_for(user)["access"]
        assert me(access).status_code == 200
        assert me(access).status_code == 200
        end_sessions(user)
        assert_401(me(access))

    def test_tokens_issued_after_a_revocation_work(self, user):
        end_sessions(user)
        pair = tokens_for(user)
        assert me(pair["access"]).status_code == 200
        assert refresh(pair["refresh"]).status_code == 200


class TestOneTimeRefresh:
    def test_reusing_a_refresh_token_revokes_every_token_of_the_user(self, user):
        first = tokens_for(user)
        other_device = tokens_for(user)
        second = refresh(first["refresh"])
        assert second.status_code == 200
        second = second.json()
        assert me(second["access"]).status_code == 200
        assert_401(refresh(first["refresh"]))  # reuse: the token was stolen
        for pair in (second, other_device):
            assert_401(refresh(pair["refresh"]))
            assert_401(me(pair["access"]))
        assert me(tokens_for(user)["access"]).status_code == 200  # the user may log in again

    def test_presenting_an_already_revoked_token_revokes_nothing_more(self, user):
        """After a password change, an old device's refresh is refused without logging out the new session."""
        old = tokens_for(user)
        assert change_password(old["access"], PASSWORD).status_code == 204
        new = login(None, user.email, NEW_PASSWORD).json()
        assert_401(refresh(old["refresh"]))
        assert me(new["access"]).status_code == 200
        assert refresh(new["refresh"]).status_code == 200

    def test_refresh_of_a_deleted_user_is_401(self, user):
        # A user who has logged in is never deleted (their login events are evidence, contract v1.3): the
        # pair is issued without a login, so that the user can be gone from the database.
        pair = issue_tokens(user)
        User.objects.filter(pk=user.pk).delete()
        assert_401(refresh(pair["refresh"]))

    def test_refresh_of_a_deactivated_user_is_401(self, user):
        pair = tokens_for(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert_401(refresh(pair["refresh"]))
        User.objects.filter(pk=user.pk).update(is_active=True)
        assert refresh(pair["refresh"]).status_code == 200

    def test_an_expired_refresh_token_is_token_invalid(self, user):
        with time_machine.travel(START, tick=False) as clock:
            pair = tokens_for(user)
            clock.shift(dt.timedelta(days=7))
            assert_401(refresh(pair["refresh"]))

    def test_an_access_token_is_not_a_refresh_token(self, user):
        assert_401(refresh(tokens_for(user)["access"]))

    def test_simplejwt_tokens_without_a_version_are_version_zero(self, user):
        """Tokens signed by simplejwt's own ``for_user`` (and those from before versions existed)."""
        legacy = RefreshToken.for_user(user)
        assert me(str(legacy.access_token)).status_code == 200
        assert refresh(str(legacy)).status_code == 200
        end_sessions(user)
        assert_401(me(str(AccessToken.for_user(user))))


class TestExpiredOrInvalid:
    def test_an_expired_access_token_is_token_expired(self, user):
        with time_machine.travel(START, tick=False) as clock:
            access = tokens_for(user)["access"]
            clock.shift(dt.timedelta(minutes=15))
            response = me(access)
        assert_401(response, "token_expired")
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_an_expired_token_with_a_bad_signature_is_token_invalid(self, user):
        with time_machine.travel(START, tick=False) as clock:
            header, payload, signature = tokens_for(user)["access"].split(".")
            clock.shift(dt.timedelta(hours=1))
            assert_401(me(f"{header}.{payload}.{signature[::-1]}"))

    @pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
    def test_garbage_is_token_invalid(self, token):
        response = me(token)
        assert response.status_code == 401
        assert error_code(response) in {"token_invalid", "not_authenticated"}

    def test_a_revoked_access_token_is_token_invalid_not_expired(self, user):
        access = tokens_for(user)["access"]
        end_sessions(user)
        assert_401(me(access))
