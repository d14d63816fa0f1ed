import pytest

from api.models import User
from tests.api.helpers import error_code, post_json
from tests.logins import login

pytestmark = pytest.mark.django_db

GOOD = {"email": "New.Person@Example.com", "password": "a-long-unusual-passphrase-42", "first_name": "New",
        "last_name": "Person", "country": "jo"}


def test_register_creates_a_customer(api_client):
    response = post_json(api_client, "/auth/register/", {**GOOD, "is_staff": True, "is_superuser": True})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "first_name", "last_name", "country"}
    assert body["email"] == "new.person@example.com"
    assert body["country"] == "JO"
    user = User.objects.get(email="new.person@example.com")
    assert not user.is_staff and not user.is_superuser and user.is_active
    assert user.check_password(GOOD["password"])


@pytest.mark.parametrize("password", ["short1!", "password1234", "123456789012345"])
def test_register_rejects_weak_passwords(api_client, password):
    response = post_json(api_client, "/auth/register/", {**GOOD, "password": password})
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.exists()


def test_register_rejects_a_taken_email_case_insensitively(api_client, user):
    response = post_json(api_client, "/auth/register/", {**GOOD, "email": user.email.upper()})
    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]


@pytest.mark.parametrize("missing", ["email", "password"])
def test_register_requires_email_and_password(api_client, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    response = post_json(api_client, "/auth/register/", body)
    assert response.status_code == 400
    assert missing in response.json()["error"]["details"]


def test_register_rejects_bad_country(api_client):
    response = post_json(api_client, "/auth/register/", {**GOOD, "country": "J1"})
    assert response.status_code == 400



def test_login_returns_a_token_pair(api_client, user):
    response = login(api_client, user.email)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_login_is_case_insensitive_on_email(api_client, user):
    assert login(api_client, user.email.upper()).status_code == 200


def test_login_with_a_wrong_password_is_401_invalid_credentials(api_client, user):
    response = login(api_client, user.email, "wrong-password-123")
    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"


def test_inactive_user_cannot_log_in(api_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert error_code(login(api_client, user.email)) == "invalid_credentials"


def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client, user):
    tokens = login(api_client, user.email).json()
    response = post_json(api_client, "/auth/jwt/refresh/", {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert response.json()["refresh"] != tokens["refresh"]
    again = post_json(api_client, "/auth/jwt/refresh/", {"refresh": tokens["refresh"]})
    assert again.status_code == 401
    assert error_code(again) == "token_invalid"


def test_logout_blacklists_the_refresh_token(api_client, user):
    tokens = login(api_client, user.email).json()
    response = post_json(api_client, "/auth/jwt/logout/", {"refresh": tokens["refresh"]})
    assert response.status_code == 205
    refused = post_json(api_client, "/auth/jwt/refresh/", {"refresh": tokens["refresh"]})
    assert refused.status_code == 401
    assert error_code(refused) == "token_invalid"


def test_garbage_refresh_token_is_401(api_client):
    response = post_json(api_client, "/auth/jwt/refresh/", {"refresh": "not-a-token"})
    assert response.status_code == 401
    assert error_code(response) == "token_invalid"


def test_me_shows_the_caller(user_client, user):
    body = user_client.get("/auth/me/").json()
    assert body["id"] == str(user.pk)
    assert set(body) == {"id", "email", "first_name", "last_name", "country", "is_staff", "date_joined"}


def test_me_cannot_escalate_privileges(user_client, user):
    response = user_client.patch("/auth/me/", {"is_staff": True, "is_superuser": True, "is_active": False,
                                               "email": "evil@example.com", "first_name": "Renamed"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.email != "evil@example.com"
    assert user.first_name == "Renamed"


def test_unauthenticated_is_401_not_authenticated(api_client):
    response = api_client.get("/auth/me/")
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_bad_access_token_is_401_token_invalid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = api_client.get("/accounts/")
    assert response.status_code == 401
    assert error_code(response) == "token_invalid"


class TestARememberedTokenIsStillChecked:
    """Authentication remembers validated access tokens per process; nothing it checks may go stale."""

    @staticmethod
    def _client(api_client, token):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api_client

    def test_expiry(self, api_client, user):
        import datetime as dt

        import time_machine
        from rest_framework_simplejwt.tokens import AccessToken

        with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as clock:
            client = self._client(api_client, AccessToken.for_user(user))
            assert client.get("/auth/me/").status_code == 200
            clock.shift(dt.timedelta(minutes=14, seconds=59))
            assert client.get("/auth/me/").status_code == 200
            clock.shift(dt.timedelta(seconds=1))
            response = client.get("/auth/me/")
        assert response.status_code == 401
        assert error_code(response) == "token_expired"

    def test_deactivation_and_deletion(self, api_client, user):
        from rest_framework_simplejwt.tokens import AccessToken

        client = self._client(api_client, AccessToken.for_user(user))
        assert client.get("/accounts/").status_code == 200
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert client.get("/accounts/").status_code == 401
        User.objects.filter(pk=user.pk).delete()
        assert client.get("/accounts/").status_code == 401

    def test_a_remembered_token_is_not_decoded_again(self, api_client, user, monkeypatch):
        from rest_framework_simplejwt.backends import TokenBackend

        from api.services.sessions import issue_tokens

        client = self._client(api_client, issue_tokens(user)["access"])
        assert client.get("/auth/me/").status_code == 200
        decoded = []
        original = TokenBackend.decode
        monkeypatch.setattr(TokenBackend, "decode", lambda backend, *a, **k: decoded.append(1) or original(backend, *a, **k))
        assert client.get("/auth/me/").status_code == 200
        assert decoded == []

    def test_revocation_and_blocking(self, api_client, user):
        from django.db.models import F
        from django.utils import timezone

        from api.services.sessions import issue_tokens

        client = self._client(api_client, issue_tokens(user)["access"])
        assert client.get("/accounts/").status_code == 200
        User.objects.filter(pk=user.pk).update(blocked_at=timezone.now())
        assert error_code(client.get("/accounts/")) == "account_blocked"
        User.objects.filter(pk=user.pk).update(blocked_at=None, token_version=F("token_version") + 1)
        response = client.get("/accounts/")
        assert response.status_code == 401
        assert error_code(response) == "token_invalid"  # a revoked token, as every other bad one

    def test_what_is_remembered_is_bound_to_the_key(self, api_client, user, monkeypatch):
        from rest_framework_simplejwt.state import token_backend

        from api.services.sessions import issue_tokens

        client = self._client(api_client, issue_tokens(user)["access"])
        assert client.get("/auth/me/").status_code == 200
        # A new key, as a restart with another JWT_SIGNING_KEY gives (simplejwt prepares its key once).
        monkeypatch.setattr(token_backend, "signing_key", "another-key-" + "x" * 52)
        monkeypatch.delitem(token_backend.__dict__, "prepared_signing_key", raising=False)
        response = client.get("/auth/me/")
        assert response.status_code == 401
        assert error_code(response) == "token_invalid"

    def test_a_remembered_token_is_the_token_simplejwt_makes(self, user):
        from rest_framework_simplejwt.tokens import AccessToken

        from api.authentication import _validate
        from api.services.sessions import issue_tokens

        raw = issue_tokens(user)["access"].encode()
        first, again, fresh = _validate(raw), _validate(raw), AccessToken(raw)
        assert again is not first and again.payload is not first.payload
        assert {**vars(again), "current_time": None} == {**vars(fresh), "current_time": None}

    def test_nothing_is_kept_for_keys_from_a_jwks_endpoint(self, api_client, user, monkeypatch):
        from rest_framework_simplejwt.backends import TokenBackend
        from rest_framework_simplejwt.state import token_backend

        from api.authentication import _check_key

        monkeypatch.setattr(token_backend, "jwks_client", object())  # keys that can be withdrawn
        assert _check_key(b"any") is None
        decoded = []
        original = TokenBackend.decode
        monkeypatch.setattr(TokenBackend, "decode", lambda backend, *a, **k: decoded.append(1) or original(backend, *a, **k))
        monkeypatch.setattr(TokenBackend, "get_verifying_key", lambda backend, token: backend.prepared_signing_key)
        from api.services.sessions import issue_tokens

        client = self._client(api_client, issue_tokens(user)["access"])
        assert client.get("/auth/me/").status_code == 200 and client.get("/auth/me/").status_code == 200
        assert len(decoded) == 2

    def test_the_memory_is_bounded(self, api_client, user, monkeypatch):
        from api import authentication
        from api.services.sessions import issue_tokens

        monkeypatch.setattr(authentication, "VERIFIED_MAX", 2)
        tokens = [issue_tokens(user)["access"] for _ in range(5)]
        for token in tokens:
            assert self._client(api_client, token).get("/auth/me/").status_code == 200
            assert len(authentication._verified) <= 2
        assert [key[0] for key in authentication._verified] == [token.encode() for token in tokens[-2:]]  # the newest

    def test_signature(self, api_client, user):
        from rest_framework_simplejwt.tokens import AccessToken

        token = str(AccessToken.for_user(user))
        assert self._client(api_client, token).get("/auth/me/").status_code == 200
        header, payload, signature = token.split(".")
        forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
        response = self._client(api_client, forged).get("/auth/me/")
        assert response.status_code == 401
        assert error_code(response) == "token_invalid"
