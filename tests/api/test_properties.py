"""Properties, on real PostgreSQL (hypothesis): conversions create no money; no amount or date is a 500.

``NEXUS_PROPERTY_EXAMPLES=500`` runs longer.
"""

import datetime as dt
import json
import os
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import exceptions, money
from api.identifiers import new_account_number
from api.ledger_checks import find_discrepancies
from api.models import Account
from api.services.fx import current_rates
from api.services.transfers import deposit, transfer_internal
from tests.conftest import auth_client
from tests.factories import AccountFactory, BillerFactory, StaffFactory, UserFactory

EXAMPLES = int(os.environ.get("NEXUS_PROPERTY_EXAMPLES", "0") or 0)
PROPERTY = settings(max_examples=EXAMPLES or 40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

CONTRACT_RATES = {"JOD": Fraction(1), "USD": Fraction("1.41"), "EUR": Fraction("1.31")}
TYPES = {"JOD": "Savings", "USD": "USD", "EUR": "EUR"}
PAIRS = [(a, b) for a in TYPES for b in TYPES if a != b]


def value(balances: dict[str, Decimal]) -> Fraction:
    """The customer's total in JOD at the contract rates, exactly (no rounding at all)."""
    return sum((Fraction(amount) / CONTRACT_RATES[currency] for currency, amount in balances.items()), Fraction(0))


def balances(accounts: dict[str, Account]) -> dict[str, Decimal]:
    numbers = {account.pk: currency for currency, account in accounts.items()}
    return {numbers[number]: balance
            for number, balance in Account.objects.filter(pk__in=numbers).values_list("pk", "balance")}


# Minor units: mostly tiny (where rounding decides), sometimes ordinary, sometimes past any balance.
minor_units = st.one_of(st.integers(1, 30), st.integers(1, 200_000), st.integers(1, 10**11))
transfers = st.lists(st.tuples(st.sampled_from(PAIRS), minor_units), min_size=1, max_size=12)
funding = st.fixed_dictionaries({currency: st.sampled_from([0, 1, 7, 250, 10**6]) for currency in TYPES})


@pytest.mark.django_db(transaction=True)
def test_internal_transfers_never_increase_the_customers_value():
    """Random sequences between one customer's JOD, USD and EUR accounts, each committed for real:
    the total at the contract rates never grows (it would with half-up rounding: 0.004 JOD ->
    0.01 USD), and the ledger explains every balance and balances every transaction."""
    staff = StaffFactory()
    assert current_rates()[0] == {"USD": Decimal("1.41"), "EUR": Decimal("1.31")}

    @PROPERTY
    @given(steps=transfers, funds=funding)
    def run(steps, funds):
        user = UserFactory()
        accounts = {currency: AccountFactory(owner=user, type=TYPES[currency]) for currency in TYPES}
        for currency, whole in funds.items():
            if whole:
                deposit(staff=staff, account_number=accounts[currency].pk, amount=Decimal(whole))
        before = balances(accounts)
        for (source, target), units in steps:
            amount = Decimal(units).scaleb(-money.MINOR_UNITS[source])
            try:
                transfer_internal(user=user, sender_number=accounts[source].pk,
                                  receiver_number=accounts[target].pk, amount=amount)
            except (exceptions.AmountTooSmall, exceptions.InsufficientFunds, exceptions.DailyLimitExceeded):
                assert balances(accounts) == before  # refused: nothing moved
                continue
            after = balances(accounts)
            assert value(after) <= value(before), (source, target, amount, before, after)
            assert after[source] == before[source] - amount
            before = after

    run()
    assert find_discrepancies() == []


# --- no 500 for any amount or date string --------------------------------------------------------

amount_strings = st.one_of(
    st.text(),
    st.from_regex(r"-?[0-9]{0,25}(\.[0-9]{0,6})?", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["99999999999999999.999", "1000000000", "1000000000.001", "0.001", "0.004", "1e9", "-0"]),
)

offsets = st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59))
date_strings = st.one_of(
    st.text(),
    st.dates().map(dt.date.isoformat),
    st.builds(lambda moment, offset: moment.replace(tzinfo=dt.timezone(offset)).isoformat(), st.datetimes(), offsets),
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
    st.from_regex(r"[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?([+-][0-9]{2}:?[0-9]{2}|Z)?)?",
                  fullmatch=True),
    st.sampled_from(["9999-12-31", "0001-01-01", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]),
)


@pytest.fixture
def endpoints(db):
    user, staff = UserFactory(), StaffFactory()
    jod = AccountFactory(owner=user, funded=Decimal("1000"))
    usd = AccountFactory(owner=user, type="USD")
    other = AccountFactory()
    return {
        "customer": auth_client(user), "staff": auth_client(staff),
        "jod": jod.pk, "usd": usd.pk, "other": other.pk, "biller": BillerFactory(currency="USD").pk,
    }


def assert_not_5xx(response):
    assert response.status_code < 500, response.content[:300]
    assert response.status_code in (200, 201, 400, 403, 404, 422), response.content[:300]
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
    if response.status_code == 403:  # v1.2 step-up: a large payment without a code
        assert response.json()["error"]["code"] == "otp_required"


@PROPERTY
@given(amount=amount_strings)
def test_no_amount_string_is_a_500(endpoints, amount):
    e = endpoints
    customer, staff = e["customer"], e["staff"]
    for client, url, body in [
        (customer, "/transfers/internal/", {"sender_account": e["jod"], "receiver_account": e["usd"]}),
        (customer, "/transfers/external/", {"sender_account": e["jod"], "receiver_account": e["other"]}),
        (customer, "/bill/", {"account": e["jod"], "biller": e["biller"], "reference": "R"}),
        (staff, f"/accounts/{e['jod']}/deposit/", {}),
    ]:
        response = client.generic("POST", url, json.dumps({**body, "amount": amount}), content_type="application/json")
        assert_not_5xx(response)
    for source, target in (("JOD", "USD"), ("USD", "EUR")):
        assert_not_5xx(customer.get("/fx/quote/", {"from": source, "to": target, "amount": amount}))


@PROPERTY
@given(value=date_strings, name=st.sampled_from(["from", "to"]))
def test_no_date_string_is_a_500(endpoints, value, name):
    e = endpoints
    answers = set()
    for number in (e["jod"], e["other"], new_account_number()):
        response = e["customer"].get(f"/accounts/{number}/transactions/", {name: value})
        assert_not_5xx(response)
        answers.add(response.status_code)
    assert 400 not in answers or answers == {400}  # a bad date is a 400 whoever owns the account
    for url in ("/business/daily/", "/business/weekly/", "/business/monthly/", "/risk/incidents/"):
        assert_not_5xx(e["staff"].get(url, {name: value}))
