"""Two writers of one unique row at the same moment: the loser gets the contract's 4xx, never a 500.

A request that checks "not there yet" and then inserts can lose to a transaction that inserted the
same row after the check and commits while the insert waits on the unique index. Each test makes
that happen for certain: the main thread holds the rival's insert uncommitted, a real request runs
in a second thread until PostgreSQL shows it waiting on that row, then the rival commits.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from api.services import sessions
from risk.models import BlockedIP
from tests.factories import StaffFactory, UserFactory
from tests.world import bearer

pytestmark = pytest.mark.django_db(transaction=True)

WAITING = """SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"""


def racing(call, rival) -> tuple[int, dict]:
    """``call()`` in a thread while ``rival()``'s writes stay uncommitted until ``call`` waits on them."""
    outcome = {}

    def run():
        try:
            response = call()
            outcome["answer"] = (response.status_code, response.json())
        except Exception as exc:  # noqa: BLE001 - the test client re-raises what would have been a 500
            outcome["answer"] = (500, {"exception": repr(exc)})
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    with transaction.atomic():
        rival()
        thread.start()
        deadline = time.monotonic() + 20
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for this transaction
                cursor.execute(WAITING)
                if cursor.fetchone()[0] or time.monotonic() > deadline or not thread.is_alive():
                    break
                time.sleep(0.02)
        assert thread.is_alive(), f"the request did not wait on the rival's row: {outcome}"
    thread.join(timeout=30)
    return outcome["answer"]


def code(body: dict) -> str | None:
    return body.get("error", {}).get("code")


def refresh(token: str):
    return APIClient().post("/auth/jwt/refresh/", {"refresh": token}, format="json")


def test_a_refresh_racing_a_password_change_is_refused_not_500():
    """The revocation blacklists the token while the exchange is between its check and its insert."""
    user = UserFactory()
    pair = sessions.issue_tokens(user)
    status, body = racing(lambda: refresh(pair["refresh"]), lambda: sessions.end_sessions(user))
    assert (status, code(body)) == (401, "token_invalid"), body
    assert refresh(pair["refresh"]).status_code == 401


def test_a_refresh_racing_a_logout_of_the_same_token_is_refused_not_500():
    user = UserFactory()
    pair = sessions.issue_tokens(user)
    status, body = racing(lambda: refresh(pair["refresh"]), lambda: RefreshToken(pair["refresh"]).blacklist())
    assert (status, code(body)) == (401, "token_invalid"), body


def test_blocking_a_range_another_analyst_is_blocking_is_refused_not_500():
    analyst = StaffFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(analyst)["Authorization"])
    status, body = racing(
        lambda: client.post("/risk/blacklist/", {"cidr": "198.51.100.0/24", "reason": "second"}, format="json"),
        lambda: BlockedIP.objects.create(cidr="198.51.100.0/24", reason="first"))
    assert (status, code(body)) == (400, "validation_error"), body
    # Exactly what the request would have been answered a moment later, by the serializer's check.
    assert body["error"] == {"code": "validation_error", "message": "cidr: Already blocked.",
                             "details": {"cidr": ["Already blocked."]}}
    assert list(BlockedIP.objects.values_list("reason", flat=True)) == ["first"]
