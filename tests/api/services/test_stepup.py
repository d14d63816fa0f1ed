"""Step-up (contract v1.2): external transfers and bills worth at least STEP_UP_THRESHOLD (500 JOD at the
contract's rates, 1 JOD = 1.41 USD = 1.31 EUR) need a current TOTP code in ``otp``. Codes are computed
here with pyotp, as an authenticator app would."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from axes.models import AccessAttempt

from api.models import Account, Transaction
from tests.api.helpers import error_code, money_snapshot, post_json
from tests.conftest import auth_client
from tests.factories import AccountFactory, BillerFactory, UserFactory, enrol, totp_code

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(minutes=5)
TYPE = {"JOD": Account.Type.SAVINGS, "USD": Account.Type.USD, "EUR": Account.Type.EUR}
# The largest amount worth less than 500 JOD and the smallest worth 500, in each currency
# (worth = amount / rate, rounded down to the fils, as every report converts).
BOUNDARY = {"JOD": ("499.999", "500.000"), "USD": ("704.99", "705.00"), "EUR": ("654.99", "655.00")}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def customer():
    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        secret, _ = enrol(user)
    user.secret = secret
    return user


def _transfer(client, sender, receiver, amount, **extra):
    return post_json(client, "/transfers/external/",
                     {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount, **extra})


def _bill(client, account, biller, amount, **extra):
    return post_json(client, "/bill/", {"account": account.pk, "biller": biller.pk, "amount": amount,
                                        "reference": "STEP-UP", **extra})


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("currency", ["JOD", "USD", "EUR"])
def test_transfer_threshold_in_each_currency(customer, currency):
    sender = AccountFactory(owner=customer, type=TYPE[currency], funded=Decimal("5000"))
    receiver = AccountFactory(type=TYPE[currency])
    client = auth_client(customer)
    below, at = BOUNDARY[currency]
    assert _transfer(client, sender, receiver, below).status_code == 201
    before = money_snapshot()
    refused = _transfer(client, sender, receiver, at)
    assert refused.status_code == 403 and error_code(refused) == "otp_required"
    assert money_snapshot() == before
    assert _transfer(client, sender, receiver, at, otp=totp_code(customer.secret)).status_code == 201


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("currency", ["JOD", "USD", "EUR"])
def test_bill_threshold_in_each_currency(customer, currency):
    """``amount`` is in the biller's currency; the account paying it may be in another."""
    account = AccountFactory(owner=customer, type=Account.Type.SAVINGS, funded=Decimal("5000"))
    biller = BillerFactory(currency=currency)
    client = auth_client(customer)
    below, at = BOUNDARY[currency]
    assert _bill(client, account, biller, below).status_code == 201
    before = money_snapshot()
    refused = _bill(client, account, biller, at)
    assert refused.status_code == 403 and error_code(refused) == "otp_required"
    assert money_snapshot() == before
    assert _bill(client, account, biller, at, otp=totp_code(customer.secret)).status_code == 201


@pytest.mark.usefixtures("frozen")
def test_internal_transfers_never_ask(customer):
    jod = AccountFactory(owner=customer, funded=Decimal("5000"))
    usd = AccountFactory(owner=customer, type=Account.Type.USD)
    response = post_json(auth_client(customer), "/transfers/internal/",
                         {"sender_account": jod.pk, "receiver_account": usd.pk, "amount": "4000.000"})
    assert response.status_code == 201


@pytest.mark.usefixtures("frozen")
def test_order_is_400_then_403_then_422(customer):
    poor = AccountFactory(owner=customer, type=Account.Type.USD, funded=Decimal("10"))
    receiver = AccountFactory(type=Account.Type.USD)
    biller = BillerFactory(currency="USD")
    client = auth_client(customer)
    before = money_snapshot()
    # 400: three decimals for USD, with no code and no funds: the input is judged first.
    invalid = _transfer(client, poor, receiver, "900.001")
    assert invalid.status_code == 400 and error_code(invalid) == "validation_error"
    # 403: a valid request without its code, though the funds are short.
    assert error_code(_transfer(client, poor, receiver, "900.00")) == "otp_required"
    # 422: with the code, the business rules answer.
    short = _transfer(client, poor, receiver, "900.00", otp=totp_code(customer.secret))
    assert short.status_code == 422 and error_code(short) == "insufficient_funds"
    # The same for a bill.
    assert error_code(_bill(client, poor, biller, "900.001")) == "validation_error"
    assert error_code(_bill(client, poor, biller, "900.00")) == "otp_required"
    assert error_code(_bill(client, poor, biller, "900.00", otp=totp_code(customer.secret, steps=1))) == \
        "insufficient_funds"
    assert money_snapshot() == before


@pytest.mark.usefixtures("frozen")
def test_a_wrong_or_reused_code_is_refused_and_counts_as_a_failed_login(customer):
    sender = AccountFactory(owner=customer, funded=Decimal("5000"))
    receiver = AccountFactory()
    client = auth_client(customer)
    code = totp_code(customer.secret)
    before = money_snapshot()
    wrong = _transfer(client, sender, receiver, "600.000", otp=str((int(code) + 1) % 1_000_000).zfill(6))
    assert wrong.status_code == 403 and error_code(wrong) == "otp_invalid"
    assert money_snapshot() == before
    assert AccessAttempt.objects.get(username=customer.email).failures_since_start == 1
    assert _transfer(client, sender, receiver, "600.000", otp=code).status_code == 201
    reused = _transfer(client, sender, receiver, "600.000", otp=code)
    assert reused.status_code == 403 and error_code(reused) == "otp_invalid"


@pytest.mark.usefixtures("frozen")
def test_without_2fa_the_refusal_says_to_enrol():
    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("5000"))
    response = _transfer(auth_client(user), sender, AccountFactory(), "500.000", otp="123456")
    assert response.status_code == 403 and error_code(response) == "otp_required"
    assert response.json()["error"]["details"] == {"enrol": "/auth/2fa/setup/", "two_factor_enabled": False}


@pytest.mark.usefixtures("frozen")
def test_a_replay_of_an_applied_request_does_not_ask_again(customer):
    sender = AccountFactory(owner=customer, funded=Decimal("5000"))
    receiver = AccountFactory()
    client = auth_client(customer)
    first = _transfer(client, sender, receiver, "800.000", otp=totp_code(customer.secret), idempotency_key="big-1")
    assert first.status_code == 201
    count = Transaction.objects.count()
    replay = _transfer(client, sender, receiver, "800.000", idempotency_key="big-1")  # no code this time
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json() and Transaction.objects.count() == count
    # A new request never skips the check, even reusing the applied request's code.
    fresh = _transfer(client, sender, receiver, "800.000", idempotency_key="big-2")
    assert error_code(fresh) == "otp_required"
    # The same key with another request is still refused as such, after the step-up.
    other = _transfer(client, sender, receiver, "801.000", otp=totp_code(customer.secret, steps=1),
                      idempotency_key="big-1")
    assert other.status_code == 422 and error_code(other) == "idempotency_key_reused"


@pytest.mark.usefixtures("frozen")
def test_a_refused_step_up_is_not_a_money_refusal(customer):
    """403 is not a business-rule refusal: nothing reaches the business figures or the risk rules."""
    from business.models import MetricEvent

    sender = AccountFactory(owner=customer, funded=Decimal("5000"))
    facts = MetricEvent.objects.count()
    assert error_code(_transfer(auth_client(customer), sender, AccountFactory(), "900.000")) == "otp_required"
    assert MetricEvent.objects.count() == facts
