"""Logs that can be followed (issue 22): one line per posting and per refusal, each with its request's id,
as every line written during a request carries it (nexus.logging.JsonFormatter)."""

import io
import json
import logging
from decimal import Decimal

import pytest

from nexus.logging import JsonFormatter
from tests.conftest import auth_client
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def money_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("api.money")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)  # setLevel, not .level: it clears the loggers' cached levels
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.mark.django_db(transaction=True)  # real commits, inside the requests: the posting's line follows its commit
def test_a_posting_and_a_refusal_each_log_one_line_with_the_request_id(money_log):
    alice = UserFactory()
    sender, receiver = AccountFactory(owner=alice, funded=Decimal("100")), AccountFactory()
    client = auth_client(alice)
    before = len(money_log())  # the funding deposit's posting, made outside a request
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "10.000"}
    paid = client.post("/transfers/external/", body, format="json", HTTP_X_REQUEST_ID="req-paid-0001")
    refused = client.post("/transfers/external/", {**body, "amount": "400.000"}, format="json",
                          HTTP_X_REQUEST_ID="req-refused-0001")
    assert (paid.status_code, refused.status_code) == (201, 422)
    lines = money_log()[before:]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("posted", "req-paid-0001"), ("refused", "req-refused-0001")]
    assert lines[0]["transaction"] == paid.json()["id"] and lines[0]["amount"] == "10.000"
    assert (lines[1]["code"], lines[1]["account"], lines[1]["kind"]) == ("insufficient_funds", sender.pk, "external")


def test_a_line_outside_a_request_has_no_request_id():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "database unavailable", (), None)
    assert "request_id" not in json.loads(JsonFormatter().format(record))
