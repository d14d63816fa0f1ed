"""Logs: one structured JSON line per request, and never a password, token, card number or CVV.

A full customer workflow runs through the real middleware with every logger at DEBUG; the lines
are formatted by the project's JSON formatter exactly as production writes them, then grepped.
"""

import json
import logging
import re

import pytest
from rest_framework.test import APIClient

from nexus.logging import JsonFormatter
from tests.conftest import auth_client
from tests.factories import AccountFactory, BillerFactory, StaffFactory

PASSWORD = "Lantern-Quartz-Harbor-91"  # noqa: S105
WRONG_PASSWORD = "Wrong-Guess-Pelican-77"  # noqa: S105


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record):
        if record.name.startswith("factory"):  # the test's own factories, not the application
            return
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def captured():
    handler = Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def workflow() -> dict:
    """Register, log in (once wrongly), open accounts, get a card, transfer, pay a bill, refresh, log out."""
    secrets = {"passwords": [PASSWORD, WRONG_PASSWORD], "tokens": []}
    api = APIClient()
    email = "log.workflow@example.com"
    assert api.post("/auth/register/", {"email": email, "password": PASSWORD}, format="json").status_code == 201
    bad = api.post("/auth/jwt/create/", {"email": email, "password": WRONG_PASSWORD}, format="json")
    assert bad.status_code == 401
    tokens = api.post("/auth/jwt/create/", {"email": email, "password": PASSWORD}, format="json").json()
    secrets["tokens"] += [tokens["access"], tokens["refresh"]]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}", HTTP_X_REQUEST_ID="client-chosen-id-1")
    assert api.get("/auth/me/").status_code == 200
    jod = api.post("/accounts/", {"type": "Savings"}, format="json").json()["account_number"]
    usd = api.post("/accounts/", {"type": "USD"}, format="json").json()["account_number"]
    staff = auth_client(StaffFactory())
    assert staff.post(f"/accounts/{jod}/deposit/", {"amount": "500.000"}, format="json").status_code == 201
    card = api.post(f"/accounts/{jod}/cards/", {"card_type": "DEBIT"}, format="json").json()
    secrets["card_number"], secrets["cvv"] = card["card_number"], card["cvv"]
    internal = {"sender_account": jod, "receiver_account": usd, "amount": "10.000"}
    assert api.post("/transfers/internal/", internal, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    other = AccountFactory()
    external = {"sender_account": jod, "receiver_account": other.pk, "amount": "5.000"}
    assert api.post("/transfers/external/", external, format="json").status_code == 201
    biller = BillerFactory()
    bill = {"account": jod, "biller": biller.pk, "amount": "2.500", "reference": "INV-77"}
    assert api.post("/bill/", bill, format="json").status_code == 201
    assert api.get(f"/accounts/{jod}/transactions/").status_code == 200
    assert api.get(f"/cards/{card['id']}/").status_code == 200
    refreshed = APIClient().post("/auth/jwt/refresh/", {"refresh": tokens["refresh"]}, format="json").json()
    secrets["tokens"] += [refreshed["access"], refreshed["refresh"]]
    assert APIClient().post("/auth/jwt/logout/", {"refresh": refreshed["refresh"]}, format="json").status_code == 205
    # A refused request, whose body carries a password-like and a card-like value.
    response = api.post("/transfers/internal/", {**internal, "description": 7}, format="json")
    assert response.status_code == 400
    secrets["account"], secrets["email"] = jod, email
    return secrets


@pytest.mark.django_db
def test_no_secret_reaches_the_logs(captured):
    secrets = workflow()
    text = "\n".join(captured.lines)
    assert captured.lines, "nothing was logged"
    for password in secrets["passwords"]:
        assert password not in text
    for token in secrets["tokens"]:
        assert token not in text and token.split(".")[-1] not in text
    assert "eyJ" not in text  # no JWT of any kind (header.payload.signature starts with eyJ)
    assert secrets["card_number"] not in text
    assert secrets["card_number"][:6] + "******" not in text  # no card-number-shaped value at all
    assert not re.search(r"(?<!\d)\d{16}(?!\d)", text)
    # The CVV is three random digits: look for it everywhere but in the numbers the access line itself
    # measures (a status of 400 or a duration is not a leaked CVV of 400).
    measured = "\n".join(json.dumps({key: value for key, value in json.loads(line).items()
                                     if not (record.name == "nexus.request" and key in ("status", "duration_ms")
                                             and isinstance(value, int | float))})
                         for line, record in zip(captured.lines, captured.records, strict=True))
    assert not re.search(rf"(?<![0-9A-Za-z.:\-]){secrets['cvv']}(?![0-9A-Za-z.:\-])", measured)
    assert "cvv" not in text.lower()
    assert "Authorization" not in text and "Bearer" not in text


@pytest.mark.django_db
def test_every_request_writes_one_structured_line(captured):
    secrets = workflow()
    access = [json.loads(line) for line, record in zip(captured.lines, captured.records, strict=True)
              if record.name == "nexus.request"]
    assert len(access) >= 15
    for line in access:
        assert {"ts", "level", "logger", "request_id", "method", "path", "status", "duration_ms", "user_id"} <= set(line)
        assert isinstance(line["status"], int) and isinstance(line["duration_ms"], float | int)
        assert line["duration_ms"] >= 0 and line["request_id"]
    transfers = [line for line in access if line["path"] == "/transfers/internal/" and line["method"] == "POST"]
    assert [line["status"] for line in transfers] == [201, 400]
    assert all(line["user_id"] for line in transfers)  # the authenticated customer
    assert transfers[0]["request_id"] == "client-chosen-id-1"  # a client's X-Request-ID is kept
    register = next(line for line in access if line["path"] == "/auth/register/")
    assert register["user_id"] is None and register["status"] == 201
    assert all(line["path"] != "/auth/jwt/create/" or line["user_id"] is None for line in access)
    assert {line["request_id"] for line in access if line["request_id"] != "client-chosen-id-1"}.__len__() == len(
        [line for line in access if line["request_id"] != "client-chosen-id-1"])  # unique ids otherwise
    assert secrets["email"] not in "\n".join(json.dumps(line) for line in access)


@pytest.mark.django_db
def test_request_id_is_echoed_and_unsafe_ids_are_replaced(client, captured):
    response = client.get("/health/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    for unsafe in ("x" * 65, "id\nforged-log-line", "ключ", "a b\t", "<script>"):
        response = client.get("/health/", HTTP_X_REQUEST_ID=unsafe)
        assert response["X-Request-ID"] != unsafe
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", response["X-Request-ID"])


def test_the_formatter_emits_one_json_object_per_line():
    record = logging.LogRecord("nexus.request", logging.INFO, __file__, 1, "request\nwith newline", (), None)
    record.request_id, record.status = "r-1", 200
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["message"] == "request\nwith newline"

