"""v1.1 bounds: every amount at most 1000000000, every balance within its column, every date in 2000-2999."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from api import bounds, exceptions
from api.identifiers import new_account_number
from api.locks import lock_accounts
from api.models import Account, FxRate, Transaction
from api.services.ledger import BALANCE_MAX, Leg, book
from tests.factories import BillerFactory

from .helpers import error_code, money_snapshot, post_json

pytestmark = pytest.mark.django_db

OVER = ["1000000000.001", "1000000001", "1000000000.01", "9999999999", "99999999999999999.999", "10000000000",
        "01000000000"]


def amount_requests(alice_jod, alice_usd, bob_jod, biller):
    return [
        ("user", "/transfers/internal/", {"sender_account": alice_jod.pk, "receiver_account": alice_usd.pk}),
        ("user", "/transfers/external/", {"sender_account": alice_jod.pk, "receiver_account": bob_jod.pk}),
        ("user", "/bill/", {"account": alice_jod.pk, "biller": biller.pk, "reference": "R"}),
        ("staff", f"/accounts/{alice_jod.pk}/deposit/", {}),
    ]


@pytest.fixture
def money_targets(user, account_factory):
    jod = account_factory(owner=user, funded=Decimal("100.000"))
    usd = account_factory(owner=user, type="USD")
    return jod, usd, account_factory(), BillerFactory()


def test_amounts_above_the_bound_are_400_everywhere(money_targets, user_client, staff_client, api_client):
    """Finding 9: a deposit of 99999999999999999.999 was a numeric overflow (500)."""
    clients = {"user": user_client, "staff": staff_client}
    before = money_snapshot()
    for role, url, body in amount_requests(*money_targets):
        for amount in OVER:
            response = post_json(clients[role], url, {**body, "amount": amount})
            assert (response.status_code, error_code(response)) == (400, "validation_error"), (url, amount)
            assert "amount" in response.json()["error"]["details"]
    for amount in OVER:
        response = api_client.get("/fx/quote/", {"from": "JOD", "to": "USD", "amount": amount})
        assert (response.status_code, error_code(response)) == (400, "validation_error")
    assert money_snapshot() == before


def test_the_bound_itself_is_accepted(money_targets, user_client, staff_client, api_client):
    jod = money_targets[0]
    response = post_json(staff_client, f"/accounts/{jod.pk}/deposit/", {"amount": "1000000000.000"})
    assert response.status_code == 201, response.json()
    assert post_json(staff_client, f"/accounts/{jod.pk}/deposit/", {"amount": "0999999999.999"}).status_code == 201
    quote = api_client.get("/fx/quote/", {"from": "JOD", "to": "USD", "amount": "1000000000"}).json()
    assert quote["converted_amount"] == "1410000000.00"
    # Within the bound, the business rules answer.
    response = post_json(user_client, "/transfers/internal/",
                         {"sender_account": jod.pk, "receiver_account": money_targets[1].pk, "amount": "1000000000"})
    assert (response.status_code, error_code(response)) == (422, "daily_limit_exceeded")


def test_the_validator_is_one_function():
    bounds.validate_amount(Decimal("1000000000"))
    with pytest.raises(ValidationError):
        bounds.validate_amount(Decimal("1000000000.001"))


@pytest.mark.django_db(transaction=True)
def test_a_balance_past_its_column_is_422_balance_limit(user, staff_client, user_client, account_factory):
    """What the column holds (20 digits, 3 decimals) is checked on the locked values: no 500, nothing written."""
    rich = account_factory(owner=user, funded=Decimal("10.000"))
    other = account_factory(owner=user)
    Account.objects.filter(pk__in=[rich.pk, other.pk]).update(balance=BALANCE_MAX - Decimal("0.500"))
    before = money_snapshot()
    response = post_json(staff_client, f"/accounts/{rich.pk}/deposit/", {"amount": "1.000"})
    assert (response.status_code, error_code(response)) == (422, "balance_limit")
    response = post_json(user_client, "/transfers/internal/",
                         {"sender_account": account_factory(owner=user, funded=Decimal("5")).pk,
                          "receiver_account": other.pk, "amount": "1.000"})
    assert (response.status_code, error_code(response)) == (422, "balance_limit")
    assert response.json()["error"]["details"] == {}  # never another account's balance
    assert money_snapshot()["balances"][rich.pk] == before["balances"][rich.pk]
    assert Transaction.objects.filter(kind="internal").count() == 0
    # Up to the last unit it still fits.
    assert post_json(staff_client, f"/accounts/{rich.pk}/deposit/", {"amount": "0.500"}).status_code == 201
    rich.refresh_from_db()
    assert rich.balance == BALANCE_MAX


def test_the_daily_spending_counter_is_bounded_too(user, account_factory):
    """The posting checks every value it writes to the row, the limit's counter included."""
    sender = account_factory(owner=user, funded=Decimal("10.000"))
    receiver = account_factory(owner=user)
    from api.bankday import bank_day

    Account.objects.filter(pk=sender.pk).update(spent_on=bank_day(), spent_amount=BALANCE_MAX)
    with transaction.atomic():
        locked = lock_accounts([sender.pk, receiver.pk])
        with pytest.raises(exceptions.BalanceLimit):
            book(locked=locked, legs=[Leg(sender.pk, Decimal("-1"), "JOD"), Leg(receiver.pk, Decimal("1"), "JOD")],
                 kind=Transaction.Kind.INTERNAL, sender_account_id=sender.pk, receiver_account_id=receiver.pk,
                 amount=Decimal("1"), currency="JOD", credited_amount=Decimal("1"), credited_currency="JOD",
                 initiated_by=user)


def test_the_posting_checks_the_bound_without_a_query(user, account_factory, django_assert_num_queries):
    sender = account_factory(owner=user, funded=Decimal("10.000"))
    receiver = account_factory(owner=user)
    with transaction.atomic():
        locked = lock_accounts([sender.pk, receiver.pk])
        with django_assert_num_queries(1):  # the one write statement
            book(locked=locked, legs=[Leg(sender.pk, Decimal("-1"), "JOD"), Leg(receiver.pk, Decimal("1"), "JOD")],
                 kind=Transaction.Kind.INTERNAL, sender_account_id=sender.pk, receiver_account_id=receiver.pk,
                 amount=Decimal("1"), currency="JOD", credited_amount=Decimal("1"), credited_currency="JOD",
                 initiated_by=user)


def test_daily_limit_takes_the_same_bound_in_the_admin(client, staff, account_factory):
    from api.models import User

    User.objects.filter(pk=staff.pk).update(is_superuser=True)
    client.force_login(staff)
    account = account_factory()
    url = f"/admin/api/account/{account.pk}/change/"
    response = client.post(url, {"daily_limit": "1000000000.001", "is_active": "on", "name": "", "reason": "r"})
    assert response.status_code == 200 and "At most 1000000000" in response.content.decode()
    account.refresh_from_db()
    assert account.daily_limit == Account.DEFAULT_DAILY_LIMIT
    assert client.post(url, {"daily_limit": "1000000000", "is_active": "on", "name": "", "reason": "r"}).status_code == 302
    account.refresh_from_db()
    assert account.daily_limit == Decimal("1000000000")
    with pytest.raises(ValidationError):
        Account(owner=staff, type="USD", currency="USD", daily_limit=Decimal("1e12")).full_clean()


# --- dates ---------------------------------------------------------------------------------------

OUT_OF_RANGE_DATES = ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"]
MALFORMED_DATES = ["20260131", "2026-W05-1", "2026-1-31", "2026-02-30", " 2026-01-31", "2026-01-31\n",
                   "2026-01-31T00:00:00Z", "٢٠٢٦-٠١-٣١", "yesterday"]


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES + MALFORMED_DATES)
@pytest.mark.parametrize("whose", ["own", "someone_elses", "nonexistent"])
def test_statement_dates_are_checked_before_ownership(user, user_client, account_factory, value, whose):
    """Finding 7: ?to=9999-12-31 was an OverflowError (500) for any account number, even unknown ones.
    The answer is the same 400 whoever owns the account (nothing leaks through the error)."""
    number = {"own": lambda: account_factory(owner=user).pk, "someone_elses": lambda: account_factory().pk,
              "nonexistent": new_account_number}[whose]()
    for name in ("from", "to"):
        response = user_client.get(f"/accounts/{number}/transactions/", {name: value})
        assert (response.status_code, error_code(response)) == (400, "validation_error"), (name, value)
        assert name in response.json()["error"]["details"]


def test_statement_accepts_the_whole_range(user, user_client, account_factory):
    number = account_factory(owner=user, funded=Decimal("1")).pk
    response = user_client.get(f"/accounts/{number}/transactions/", {"from": "2000-01-01", "to": "2999-12-31"})
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    response = user_client.get(f"/accounts/{number}/transactions/", {"from": "2999-12-31", "format": "csv"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["2026-01-31", "2000-01-01T00:00:00+14:00", "2999-12-31T23:59:59.999999-14:00"])
def test_the_date_parsers_take_what_the_contract_says(value):
    parse = bounds.parse_datetime if "T" in value else bounds.parse_date
    parsed = parse(value)
    if isinstance(parsed, dt.datetime):
        assert parsed.utcoffset() == dt.timedelta(0)  # handed on in UTC


@pytest.mark.parametrize("value", ["2026-01-31T00:00:00", "2026-01-31T00:00Z", "2026-01-31 00:00:00Z",
                                   "2026-01-31T00:00:00+14:01", "2026-01-31T00:00:00-20:11",
                                   "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                   "1999-12-31T23:59:59Z", "2026-01-31T24:00:00Z", "2026-01-31T00:00:00+0100"])
def test_the_datetime_parser_refuses_the_rest(value):
    with pytest.raises(ValidationError):
        bounds.parse_datetime(value)


def test_fx_rate_dates_take_the_same_bound(staff):
    with pytest.raises(ValidationError):
        FxRate(currency="USD", rate=Decimal("1.5"), effective_from=dt.datetime(1, 1, 1, tzinfo=dt.UTC)).full_clean()
