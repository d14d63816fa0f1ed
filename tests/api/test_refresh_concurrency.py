"""One refresh token, many exchanges at once, real threads on PostgreSQL: exactly one wins."""

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

from .test_concurrency import run_threads

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _refresh(token):
    response = APIClient().post("/auth/jwt/refresh/", {"refresh": token}, format="json")
    return response.status_code, response.json()


def test_concurrent_refreshes_of_one_token_one_wins_and_the_family_is_revoked():
    user = UserFactory()
    pair = APIClient().post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD}, format="json").json()

    results = run_threads(THREADS, lambda _: _refresh(pair["refresh"]))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (THREADS - 1)
    assert {body["error"]["code"] for status, body in results if status == 401} == {"token_invalid"}
    winner = next(body for status, body in results if status == 200)
    # The others presented a token already used: the pair the winner got is revoked with the rest.
    assert _refresh(winner["refresh"])[0] == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {winner['access']}")
    assert client.get("/auth/me/").status_code == 401
