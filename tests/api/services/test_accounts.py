import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection

from api.identifiers import is_valid_account_number, luhn_valid
from api.models import Account, Card, Transaction
from tests.api.helpers import error_code, money_snapshot, post_json
from tests.factories import fund

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("type_", "currency", "zero"), [
    ("Savings", "JOD", "0.000"), ("Salary", "JOD", "0.000"), ("Basic", "JOD", "0.000"),
    ("USD", "USD", "0.00"), ("EUR", "EUR", "0.00"),
])
def test_open_account_ignores_any_balance_sent(user_client, type_, currency, zero):
    response = post_json(user_client, "/accounts/", {"type": type_, "balance": "1000000", "owner": "x",
                                                      "is_active": False, "currency": "EUR"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"account_number", "type", "currency", "balance", "is_active", "daily_limit", "created_at"}
    assert (body["type"], body["currency"], body["balance"], body["is_active"]) == (type_, currency, zero, True)
    assert body["daily_limit"] == ("10000.000" if currency == "JOD" else "10000.00")
    assert is_valid_account_number(body["account_number"])
    assert Account.objects.get(pk=body["account_number"]).balance == 0


def test_open_account_rejects_unknown_type(user_client):
    response = post_json(user_client, "/accounts/", {"type": "GBP"})
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_account_numbers_carry_a_check_digit(account_factory):
    number = account_factory().pk
    assert len(number) == 12 and luhn_valid(number)
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not is_valid_account_number(mistyped)


def test_customers_see_only_their_own_accounts(user, other_user, client_for, account_factory):
    mine = account_factory(owner=user)
    theirs = account_factory(owner=other_user)
    client = client_for(user)
    listed = [a["account_number"] for a in client.get("/accounts/").json()["results"]]
    assert listed == [mine.pk]
    assert client.get(f"/accounts/{mine.pk}/").status_code == 200
    for url in (f"/accounts/{theirs.pk}/", f"/accounts/{theirs.pk}/transactions/", f"/accounts/{theirs.pk}/cards/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert error_code(response) == "not_found"


def test_card_is_shown_in_full_once_and_never_stored(user, user_client, account_factory):
    account = account_factory(owner=user)
    response = post_json(user_client, f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT", "cvv": "123"})
    assert response.status_code == 201
    body = response.json()
    number, cvv = body["card_number"], body["cvv"]
    assert len(number) == 16 and luhn_valid(number)
    assert len(cvv) == 3 and cvv.isdigit()
    assert body["last4"] == number[-4:]
    assert response["Cache-Control"] == "no-store"
    # Nowhere in the cards table: neither the number nor the CVV.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_card")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert number not in stored
    assert not any(column.name.lower() in {"cvv", "card_number", "number"} for column in
                   connection.introspection.get_table_description(connection.cursor(), "api_card"))
    listed = user_client.get(f"/accounts/{account.pk}/cards/").json()
    assert listed[0]["masked_number"] == f"**** **** **** {number[-4:]}"
    assert "card_number" not in listed[0] and "cvv" not in listed[0]
    detail = user_client.get(f"/cards/{body['id']}/").json()
    assert set(detail) == {"id", "card_type", "masked_number", "last4", "expiration_date", "is_active"}
    assert dt.date.fromisoformat(detail["expiration_date"]) > dt.date.today()


def test_card_freeze_and_unfreeze(user, user_client, account_factory):
    account = account_factory(owner=user)
    card_id = post_json(user_client, f"/accounts/{account.pk}/cards/", {"card_type": "CREDIT"}).json()["id"]
    response = user_client.patch(f"/cards/{card_id}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert Card.objects.get(pk=card_id).is_active is False
    assert user_client.patch(f"/cards/{card_id}", {"is_active": True}, format="json").json()["is_active"] is True


def test_others_cards_are_404(user, other_user, client_for, account_factory):
    account = account_factory(owner=other_user)
    card_id = post_json(client_for(other_user), f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT"}).json()["id"]
    client = client_for(user)
    assert client.get(f"/cards/{card_id}/").status_code == 404
    assert client.patch(f"/cards/{card_id}/", {"is_active": False}, format="json").status_code == 404
    assert post_json(client, f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT"}).status_code == 404
    assert Card.objects.get(pk=card_id).is_active


def test_deposit_is_staff_only(user, user_client, staff_client, account_factory):
    account = account_factory(owner=user)
    refused = post_json(user_client, f"/accounts/{account.pk}/deposit/", {"amount": "100.000"})
    assert refused.status_code == 403
    assert error_code(refused) == "permission_denied"
    response = post_json(staff_client, f"/accounts/{account.pk}/deposit/", {"amount": "100.000", "description": "Cash"})
    assert response.status_code == 201
    assert response.json()["kind"] == "deposit"
    assert response.json()["receiver_balance_after"] == "100.000"
    account.refresh_from_db()
    assert account.balance == Decimal("100.000")


def test_deposit_amount_precision_follows_the_currency(staff_client, account_factory):
    usd = account_factory(type="USD")
    before = money_snapshot()
    response = post_json(staff_client, f"/accounts/{usd.pk}/deposit/", {"amount": "10.001"})
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert money_snapshot() == before


def test_deposit_to_unknown_account_is_404(staff_client):
    assert post_json(staff_client, "/accounts/000000000000/deposit/", {"amount": "1.000"}).status_code == 404


def test_statement_lines_come_from_the_ledger(user, user_client, account_factory):
    savings = account_factory(owner=user, funded=Decimal("500.000"))
    usd = account_factory(owner=user, type="USD")
    other = account_factory(type="EUR")
    post_json(user_client, "/transfers/internal/", {"sender_account": savings.pk, "receiver_account": usd.pk,
                                                    "amount": "100.000", "description": "to dollars"})
    post_json(user_client, "/transfers/external/", {"sender_account": savings.pk, "receiver_account": other.pk,
                                                    "amount": "50.000"})
    lines = user_client.get(f"/accounts/{savings.pk}/transactions/").json()["results"]
    assert [(line["direction"], line["amount"], line["balance_after"]) for line in lines] == [
        ("debit", "0.500", "349.500"),   # fee of the external transfer
        ("debit", "50.000", "350.000"),
        ("debit", "100.000", "400.000"),
        ("credit", "500.000", "500.000"),
    ]
    assert lines[2]["counterparty_account"] == usd.pk
    assert lines[2]["description"] == "to dollars"
    assert set(lines[0]) == {"transaction_id", "kind", "direction", "amount", "currency", "balance_after",
                             "counterparty_account", "description", "created_at"}
    usd_lines = user_client.get(f"/accounts/{usd.pk}/transactions").json()["results"]
    assert [(line["direction"], line["amount"], line["currency"]) for line in usd_lines] == [("credit", "141.00", "USD")]


def test_statement_date_filter_uses_bank_days(user, user_client, account_factory):
    account = account_factory(owner=user, funded=Decimal("10.000"))
    txn = Transaction.objects.get(receiver_account=account)
    today = txn.created_at.astimezone(dt.timezone(dt.timedelta(hours=3))).date()
    url = f"/accounts/{account.pk}/transactions/"
    assert len(user_client.get(url, {"from": today.isoformat(), "to": today.isoformat()}).json()["results"]) == 1
    assert user_client.get(url, {"from": (today + dt.timedelta(days=1)).isoformat()}).json()["results"] == []
    assert user_client.get(url, {"from": "2025-13-01"}).status_code == 400
    assert user_client.get(url, {"from": "2025-02-02", "to": "2025-02-01"}).status_code == 400


def test_statement_csv_download(user, user_client, account_factory):
    account = account_factory(owner=user, funded=Decimal("25.000"))
    response = user_client.get(f"/accounts/{account.pk}/transactions/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = response.content.decode().strip().splitlines()
    assert rows[0] == "transaction_id,kind,direction,amount,currency,balance_after,counterparty_account,description,created_at"
    assert ",deposit,credit,25.000,JOD,25.000," in rows[1]


def test_statement_pages_link_by_cursor_without_counting(user, user_client, account_factory):
    account = account_factory(owner=user, funded=Decimal("1.000"))
    for _ in range(4):
        fund(account, Decimal("1.000"))  # 5 lines in all
    url = f"/accounts/{account.pk}/transactions/"
    first = user_client.get(url, {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None and "cursor=" in first["next"] and "page_size=2" in first["next"]
    assert [line["balance_after"] for line in first["results"]] == ["5.000", "4.000"]
    second = user_client.get(first["next"]).json()
    assert [line["balance_after"] for line in second["results"]] == ["3.000", "2.000"]
    last = user_client.get(second["next"]).json()
    assert last["next"] is None and [line["balance_after"] for line in last["results"]] == ["1.000"]
    back = user_client.get(last["previous"]).json()  # previous: the page before, newest first again
    assert [line["balance_after"] for line in back["results"]] == ["3.000", "2.000"]
    assert [line["balance_after"] for line in user_client.get(back["previous"]).json()["results"]] == ["5.000", "4.000"]
    assert user_client.get(url, {"page_size": 5}).json()["next"] is None
    for bad in ({"cursor": "not-a-cursor"}, {"cursor": ""}, {"page": "2"}):
        response = user_client.get(url, bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error", bad


def test_statement_of_an_empty_account_and_of_someone_elses(user, user_client, account_factory):
    own = account_factory(owner=user)
    assert user_client.get(f"/accounts/{own.pk}/transactions/").json() == {"next": None, "previous": None,
                                                                          "results": []}
    other = account_factory(funded=Decimal("3.000"))
    for params in ({}, {"format": "csv"}, {"from": "2020-01-01"}):
        response = user_client.get(f"/accounts/{other.pk}/transactions/", params)
        assert response.status_code == 404
        assert json.loads(response.content)["error"]["code"] == "not_found"
