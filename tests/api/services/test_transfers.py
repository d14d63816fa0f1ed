from decimal import Decimal

import pytest

from api.models import Account, BillPayment, FxRate, IdempotencyBody, LedgerEntry, Transaction
from nexus import refcache
from nexus.models import Job
from tests.api.helpers import error_code, money_snapshot, post_json
from tests.factories import BillerFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(user):
    return user


@pytest.fixture
def jod(alice, account_factory):
    return account_factory(owner=alice, funded=Decimal("1000.000"))


def internal(client, sender, receiver, amount, **extra):
    headers = {k: extra.pop(k) for k in list(extra) if k.startswith("HTTP_")}
    return post_json(client, "/transfers/internal/", {"sender_account": sender, "receiver_account": receiver,
                                                      "amount": amount, **extra}, **headers)


def external(client, sender, receiver, amount, **extra):
    headers = {k: extra.pop(k) for k in list(extra) if k.startswith("HTTP_")}
    return post_json(client, "/transfers/external/", {"sender_account": sender, "receiver_account": receiver,
                                                      "amount": amount, **extra}, **headers)


def test_internal_transfer(alice, user_client, jod, account_factory):
    savings = account_factory(owner=alice, type="Salary")
    response = internal(user_client, jod.pk, savings.pk, "250.500", description="rent")
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "internal" and body["status"] == "SUCCESS"
    assert (body["amount"], body["fee_amount"], body["credited_amount"]) == ("250.500", "0.000", "250.500")
    assert body["fx_rate"] is None
    assert (body["sender_balance_after"], body["receiver_balance_after"]) == ("749.500", "250.500")
    assert set(body) >= {"id", "sender_account", "receiver_account", "currency", "credited_currency",
                         "description", "idempotency_key", "created_at"}
    jod.refresh_from_db()
    savings.refresh_from_db()
    assert (jod.balance, savings.balance) == (Decimal("749.500"), Decimal("250.500"))


def test_internal_transfer_to_someone_elses_account_is_404(user_client, jod, account_factory):
    theirs = account_factory()
    before = money_snapshot()
    response = internal(user_client, jod.pk, theirs.pk, "1.000")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert money_snapshot() == before
    # It says where paying another customer is, and the same for a number that does not exist (nothing revealed).
    error = response.json()["error"]
    assert "/transfers/external/" in error["message"] and "between your own accounts" in error["message"]
    from api.identifiers import new_account_number

    unknown = internal(user_client, jod.pk, new_account_number(), "1.000").json()["error"]
    assert (unknown["message"], unknown["details"]) == (error["message"], error["details"])


def test_transfer_from_someone_elses_account_is_404(user_client, account_factory):
    theirs = account_factory(funded=Decimal("100.000"))
    receiver = account_factory()
    before = money_snapshot()
    response = external(user_client, theirs.pk, receiver.pk, "1.000")
    assert response.status_code == 404
    assert money_snapshot() == before


def test_external_transfer_charges_a_fee_on_top(user_client, jod, account_factory):
    bob_account = account_factory()
    response = external(user_client, jod.pk, bob_account.pk, "100.000")
    assert response.status_code == 201
    body = response.json()
    assert (body["fee_amount"], body["sender_balance_after"], body["credited_amount"]) == ("1.000", "899.000", "100.000")
    assert "receiver_balance_after" not in body  # never another customer's balance
    bob_account.refresh_from_db()
    assert bob_account.balance == Decimal("100.000")


def test_fee_rounds_up_to_the_minor_unit(user_client, jod, account_factory):
    """Finding 12: 1% of 0.040 JOD (0.0004) was 0.000, so payments split small enough paid no fee.
    v1.1: amount x rate rounded up, at least one minor unit while the rate is above zero."""
    other = account_factory()
    for amount, fee in [("0.050", "0.001"), ("0.040", "0.001"), ("0.001", "0.001"), ("0.100", "0.001"),
                        ("0.101", "0.002"), ("123.456", "1.235")]:
        body = external(user_client, jod.pk, other.pk, amount).json()
        assert body["fee_amount"] == fee, (amount, body)
    assert Transaction.objects.filter(kind="external", fee_amount=0).count() == 0


def test_usd_fee_rounds_up_to_the_cent(alice, user_client, account_factory):
    usd = account_factory(owner=alice, type="USD", funded=Decimal("10.00"))
    body = external(user_client, usd.pk, account_factory(type="USD").pk, "0.01").json()
    assert (body["fee_amount"], body["sender_balance_after"]) == ("0.01", "9.98")


def test_no_fee_leg_while_the_rate_is_zero(user_client, jod, account_factory, settings):
    settings.EXTERNAL_TRANSFER_FEE_RATE = "0"
    body = external(user_client, jod.pk, account_factory().pk, "5.000").json()
    assert (body["fee_amount"], body["sender_balance_after"]) == ("0.000", "995.000")
    assert not Transaction.objects.get(pk=body["id"]).entries.filter(purpose="fee").exists()


# Hand-computed with 1 JOD = 1.41 USD = 1.31 EUR, rounded down (v1.1); USD<->EUR via JOD (3 dp, down).
FX_CASES = [
    ("Savings", "USD", "100.000", "141.00", "1.41"),
    ("Savings", "EUR", "100.000", "131.00", "1.31"),
    ("Savings", "USD", "0.500", "0.70", "1.41"),          # 0.705 -> 0.70 (down; half-up gave 0.71)
    ("USD", "Savings", "100.00", "70.921", "0.70922"),     # 70.92198.. -> 70.921
    ("EUR", "Savings", "100.00", "76.335", "0.763359"),   # 76.33587.. -> 76.335
    ("USD", "EUR", "100.00", "92.90", "0.929078"),        # 70.921 JOD * 1.31 = 92.90651
    ("EUR", "USD", "100.00", "107.63", "1.076336"),       # 76.335 JOD * 1.41 = 107.63235
    ("Savings", "USD", "0.004", "0.00", None),            # credits nothing: 422 amount_too_small
]


@pytest.mark.parametrize(("source", "target", "amount", "credited", "rate"), FX_CASES)
def test_fx_pairs(alice, user_client, account_factory, source, target, amount, credited, rate):
    sender = account_factory(owner=alice, type=source)
    fund(sender, Decimal("1000"))
    receiver = account_factory(owner=alice, type=target)
    response = internal(user_client, sender.pk, receiver.pk, amount)
    if rate is None:
        assert (response.status_code, error_code(response)) == (422, "amount_too_small")
        return
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["credited_amount"], body["fx_rate"]) == (credited, rate)
    assert body["credited_currency"] == receiver.currency
    txn = Transaction.objects.get(pk=body["id"])
    legs = {(e.account.role, e.currency): e.amount for e in txn.entries.select_related("account")}
    # Two balanced legs through the FX position accounts.
    assert legs[("fx", sender.currency)] == Decimal(amount)
    assert legs[("fx", receiver.currency)] == -Decimal(credited)


def test_fx_quote_matches_transfers(api_client):
    for source, target, amount, credited, rate in FX_CASES:
        currency = {"Savings": "JOD"}.get(source, source)
        to = {"Savings": "JOD"}.get(target, target)
        response = api_client.get("/fx/quote/", {"from": currency, "to": to, "amount": amount})
        if rate is None:
            assert (response.status_code, error_code(response)) == (422, "amount_too_small")
            continue
        body = response.json()
        assert body["converted_amount"] == credited
        assert body["from"] == currency and body["to"] == to


def test_rounding_round_trips_create_no_money(alice, user_client, account_factory):
    """Finding 4: 0.004 JOD -> 0.01 USD -> 0.007 JOD, repeated without limit. Now every leg rounds
    down: the first credits nothing (422), and a round trip of any size never comes back larger."""
    jod = account_factory(owner=alice, funded=Decimal("1.000"))
    usd = account_factory(owner=alice, type="USD")
    before = money_snapshot()
    response = internal(user_client, jod.pk, usd.pk, "0.004")
    assert (response.status_code, error_code(response)) == (422, "amount_too_small")
    assert money_snapshot() == before
    for _ in range(3):
        there = internal(user_client, jod.pk, usd.pk, "0.008").json()  # 0.01128 -> 0.01 USD
        assert there["credited_amount"] == "0.01"
        back = internal(user_client, usd.pk, jod.pk, "0.01").json()  # 0.00709 -> 0.007 JOD
        assert back["credited_amount"] == "0.007"
    jod.refresh_from_db()
    usd.refresh_from_db()
    assert (jod.balance, usd.balance) == (Decimal("0.997"), Decimal("0"))


@pytest.mark.parametrize(("source", "target", "amount"), [("JOD", "USD", "0.003"), ("JOD", "EUR", "0.007"),
                                                          ("USD", "EUR", "0.01"), ("EUR", "USD", "0.01")])
def test_a_conversion_that_credits_nothing_is_422_everywhere(alice, user_client, account_factory, api_client,
                                                              source, target, amount):
    """Transfers, bills and the quote answer alike (the transfer and bill used to give 400)."""
    type_of = {"JOD": "Savings", "USD": "USD", "EUR": "EUR"}
    sender = account_factory(owner=alice, type=type_of[source], funded=Decimal("10"))
    receiver = account_factory(owner=alice, type=type_of[target])
    before = money_snapshot()
    quote = api_client.get("/fx/quote/", {"from": source, "to": target, "amount": amount})
    transfer = internal(user_client, sender.pk, receiver.pk, amount)
    assert money_snapshot() == before
    for response in (quote, transfer):
        assert (response.status_code, error_code(response)) == (422, "amount_too_small")
    # A bill in the sender's currency, paid from an account in the target currency, converts the
    # other way: worth less than one minor unit of that account, it is too small as well.
    payer = account_factory(owner=alice, type=type_of[target], funded=Decimal("10"))
    biller = BillerFactory(currency=source)
    before = money_snapshot()
    bill = post_json(user_client, "/bill/", {"account": payer.pk, "biller": biller.pk, "amount": amount,
                                             "reference": "R"})
    assert (bill.status_code, error_code(bill)) == (422, "amount_too_small")
    assert money_snapshot() == before


def test_fx_rates_endpoint_and_history(api_client):
    assert api_client.get("/fx/rates/").json()["rates"] == {"EUR": "1.31", "USD": "1.41"}
    FxRate.objects.create(currency="USD", rate=Decimal("1.42"))
    refcache.clear()
    body = api_client.get("/fx/rates/").json()
    assert body["base"] == "JOD" and body["rates"]["USD"] == "1.42" and body["as_of"]
    assert FxRate.objects.filter(currency="USD").count() == 2


def test_a_transfer_records_the_rate_it_used(alice, user_client, jod, account_factory):
    usd = account_factory(owner=alice, type="USD")
    FxRate.objects.create(currency="USD", rate=Decimal("1.50"))
    body = internal(user_client, jod.pk, usd.pk, "10.000").json()
    assert (body["credited_amount"], body["fx_rate"]) == ("15.00", "1.5")


@pytest.mark.parametrize(("amount", "field_ok"), [("1.0001", False), ("0", False), ("-5", False), ("abc", False),
                                                  ("1e3", False), ("NaN", False), ("Infinity", False)])
def test_bad_amounts_are_400_and_change_nothing(user_client, jod, account_factory, amount, field_ok):
    receiver = account_factory()
    before = money_snapshot()
    response = external(user_client, jod.pk, receiver.pk, amount)
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "amount" in response.json()["error"]["details"]
    assert money_snapshot() == before


def test_usd_amount_with_three_decimals_is_400(alice, user_client, account_factory):
    usd = account_factory(owner=alice, type="USD", funded=Decimal("100"))
    receiver = account_factory()
    before = money_snapshot()
    response = external(user_client, usd.pk, receiver.pk, "1.001")
    assert response.status_code == 400
    assert money_snapshot() == before


def test_json_number_amount_is_400(user_client, jod, account_factory):
    assert external(user_client, jod.pk, account_factory().pk, 10.5).status_code == 400


@pytest.mark.usefixtures("no_step_up")  # large amounts; step-up is tested apart
def test_insufficient_funds_is_422_and_changes_nothing(user_client, jod, account_factory):
    receiver = account_factory()
    before = money_snapshot()
    response = external(user_client, jod.pk, receiver.pk, "995.000")  # + 9.950 fee > 1000
    assert response.status_code == 422
    assert error_code(response) == "insufficient_funds"
    assert money_snapshot() == before


def test_same_account_is_422(user_client, jod):
    response = internal(user_client, jod.pk, jod.pk, "1.000")
    assert (response.status_code, error_code(response)) == (422, "same_account")


def test_inactive_accounts_are_422(alice, user_client, jod, account_factory):
    frozen = account_factory(owner=alice, is_active=False)
    receiver = account_factory()
    before = money_snapshot()
    response = internal(user_client, jod.pk, frozen.pk, "1.000")
    assert (response.status_code, error_code(response)) == (422, "account_inactive")
    Account.objects.filter(pk=jod.pk).update(is_active=False)
    before = money_snapshot()
    response = external(user_client, jod.pk, receiver.pk, "1.000")
    assert (response.status_code, error_code(response)) == (422, "account_inactive")
    assert money_snapshot() == before


def test_unknown_receiver_is_422_receiver_not_found(user_client, jod):
    response = external(user_client, jod.pk, "100000000008", "1.000")
    assert (response.status_code, error_code(response)) == (422, "receiver_not_found")


def test_mistyped_receiver_number_is_400(user_client, jod, account_factory):
    number = account_factory().pk
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    response = external(user_client, jod.pk, mistyped, "1.000")
    assert response.status_code == 400
    assert "receiver_account" in response.json()["error"]["details"]


def test_house_accounts_cannot_receive_external_transfers(user_client, jod):
    fees = Account.objects.filter(role="fees").first()
    response = external(user_client, jod.pk, fees.pk, "1.000")
    assert error_code(response) == "receiver_not_found"


def test_daily_limit_counts_todays_outgoing_amounts(alice, user_client, account_factory):
    sender = account_factory(owner=alice, funded=Decimal("20000.000"))
    other = account_factory(owner=alice)
    assert internal(user_client, sender.pk, other.pk, "9999.000").status_code == 201
    before = money_snapshot()
    response = internal(user_client, sender.pk, other.pk, "1.001")
    assert (response.status_code, error_code(response)) == (422, "daily_limit_exceeded")
    assert money_snapshot() == before
    assert internal(user_client, sender.pk, other.pk, "1.000").status_code == 201


class TestDailyLimitCounter:
    """The limit is counted on the account row (spent_on, spent_amount), kept by every posting."""

    @pytest.mark.usefixtures("no_step_up")  # large amounts; step-up is tested apart
    def test_bills_count_and_a_reversal_frees_its_amount(self, alice, user_client, staff_client, account_factory):
        from django.core.management import call_command

        sender = account_factory(owner=alice, funded=Decimal("20000.000"))
        other = account_factory(owner=alice)
        first = internal(user_client, sender.pk, other.pk, "9000.000").json()
        bill = post_json(user_client, "/bill/", {"account": sender.pk, "biller": BillerFactory().pk,
                                                 "amount": "999.000", "reference": "R-1"})
        assert bill.status_code == 201
        response = internal(user_client, sender.pk, other.pk, "1.001")
        assert (response.status_code, error_code(response)) == (422, "daily_limit_exceeded")
        assert response.json()["error"]["details"]["used_today"] == "9999.000"
        assert post_json(staff_client, f"/transfers/{first['id']}/reverse/", {"reason": "x"}).status_code == 201
        assert internal(user_client, sender.pk, other.pk, "9001.000").status_code == 201
        sender.refresh_from_db()
        assert sender.spent_amount == Decimal("10000.000")
        call_command("verify_ledger")

    def test_the_counter_starts_again_at_amman_midnight(self, alice, client_for, account_factory):
        import datetime as dt

        import time_machine

        sender = account_factory(owner=alice, funded=Decimal("30000.000"))
        other = account_factory(owner=alice)
        with time_machine.travel(dt.datetime(2026, 3, 1, 20, 59, 59, tzinfo=dt.UTC), tick=False) as clock:  # 23:59:59 (UTC+3)
            user_client = client_for(alice)  # a token issued at that time
            assert internal(user_client, sender.pk, other.pk, "10000.000").status_code == 201
            assert error_code(internal(user_client, sender.pk, other.pk, "0.001")) == "daily_limit_exceeded"
            clock.shift(dt.timedelta(seconds=1))  # 00:00:00 in Amman
            assert internal(user_client, sender.pk, other.pk, "10000.000").status_code == 201
        sender.refresh_from_db()
        assert (sender.spent_on, sender.spent_amount) == (dt.date(2026, 3, 2), Decimal("10000.000"))

    def test_checking_the_limit_reads_no_transactions(self, alice, user_client, account_factory):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        sender = account_factory(owner=alice, funded=Decimal("100.000"))
        other = account_factory(owner=alice)
        with CaptureQueriesContext(connection) as queries:
            assert internal(user_client, sender.pk, other.pk, "1.000").status_code == 201
        assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and "api_transaction" in q["sql"]]

    def test_verify_ledger_catches_a_wrong_counter(self, alice, user_client, account_factory):
        from django.core.management import CommandError, call_command

        sender = account_factory(owner=alice, funded=Decimal("100.000"))
        assert internal(user_client, sender.pk, account_factory(owner=alice).pk, "5.000").status_code == 201
        Account.objects.filter(pk=sender.pk).update(spent_amount=Decimal("4.000"))
        with pytest.raises(CommandError, match="daily limit counter"):
            call_command("verify_ledger")


def test_missing_fields_are_400(user_client):
    response = post_json(user_client, "/transfers/internal/", {})
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"sender_account", "receiver_account", "amount"}


class TestIdempotency:
    def test_replay_returns_the_first_response_and_moves_nothing(self, user_client, jod, account_factory):
        receiver = account_factory()
        first = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-1")
        before = money_snapshot()
        second = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-1")
        assert second.status_code == first.status_code == 201
        assert second.json() == first.json()
        assert second.content == first.content
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert money_snapshot() == before

    def test_a_replay_is_the_first_answer_even_after_the_transfer_changed(self, user_client, jod, account_factory):
        # The body is kept as first answered (rendered after the commit): a reversal since then does not
        # change what the replay says.
        receiver = account_factory()
        first = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-2")
        Transaction.objects.filter(pk=first.json()["id"]).update(status=Transaction.Status.REVERSED)
        again = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-2")
        assert (again.content, again["Idempotent-Replayed"]) == (first.content, "true")

    def test_a_replay_before_the_body_is_kept_is_rendered_from_the_result(self, user_client, jod, account_factory):
        # The process died between the commit and keeping the body: the record names the transaction.
        receiver = account_factory()
        first = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-3")
        IdempotencyBody.objects.filter(key="pay-3").delete()
        before = money_snapshot()
        again = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="pay-3")
        assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, first.json(), "true")
        assert money_snapshot() == before

    def test_key_in_the_body_works_too(self, user_client, jod, account_factory):
        receiver = account_factory()
        first = external(user_client, jod.pk, receiver.pk, "10.000", idempotency_key="body-key")
        assert first.json()["idempotency_key"] == "body-key"
        again = external(user_client, jod.pk, receiver.pk, "10.000", idempotency_key="body-key")
        assert again["Idempotent-Replayed"] == "true"

    def test_same_key_different_request_is_422(self, user_client, jod, account_factory):
        receiver = account_factory()
        external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="k")
        before = money_snapshot()
        response = external(user_client, jod.pk, receiver.pk, "11.000", HTTP_IDEMPOTENCY_KEY="k")
        assert (response.status_code, error_code(response)) == (422, "idempotency_key_reused")
        assert money_snapshot() == before

    def test_a_key_taken_by_another_request_rolls_this_one_back_whole(self, user_client, jod, account_factory):
        # The key is recorded at the end of the transaction, with the outcome: a second request that got
        # as far as booking (another amount, money enough) is rolled back there, legs, job and all.
        receiver = account_factory()
        external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="taken")
        before = (money_snapshot(), Transaction.objects.count(), LedgerEntry.objects.count(), Job.objects.count())
        response = external(user_client, jod.pk, receiver.pk, "12.000", HTTP_IDEMPOTENCY_KEY="taken")
        assert (response.status_code, error_code(response)) == (422, "idempotency_key_reused")
        after = (money_snapshot(), Transaction.objects.count(), LedgerEntry.objects.count(), Job.objects.count())
        assert after == before

    def test_a_reused_key_is_422_even_when_the_other_request_would_be_refused(self, user_client, jod,
                                                                                account_factory, monkeypatch):
        from api.services import money_request

        owed = []
        monkeypatch.setattr(money_request, "owe_refusal", lambda **kwargs: owed.append(kwargs))
        receiver = account_factory()
        external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="k2")
        response = external(user_client, jod.pk, "000000000000", "10.000", HTTP_IDEMPOTENCY_KEY="k2")
        assert (response.status_code, error_code(response), owed) == (422, "idempotency_key_reused", [])

    def test_a_retry_replays_even_when_it_would_be_refused_now(self, user_client, jod, account_factory, monkeypatch):
        # The request ran again up to its refusal (the account is frozen since): its key answers, not the
        # refusal, and no refusal is owed.
        from api.services import money_request

        owed = []
        monkeypatch.setattr(money_request, "owe_refusal", lambda **kwargs: owed.append(kwargs))
        receiver = account_factory()
        first = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="frozen")
        Account.objects.filter(pk=jod.pk).update(is_active=False)
        before = money_snapshot()
        again = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="frozen")
        assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (201, first.content, "true")
        assert (money_snapshot(), owed) == (before, [])
        fresh = external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="frozen-2")
        assert fresh.status_code == 422 and len(owed) == 1  # a new request is refused, and its refusal owed

    def test_keys_are_scoped_per_user(self, other_user, user_client, client_for, jod, account_factory):
        receiver = account_factory()
        external(user_client, jod.pk, receiver.pk, "10.000", HTTP_IDEMPOTENCY_KEY="shared")
        bobs = account_factory(owner=other_user, funded=Decimal("50.000"))
        response = external(client_for(other_user), bobs.pk, receiver.pk, "5.000", HTTP_IDEMPOTENCY_KEY="shared")
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response

    @pytest.mark.usefixtures("no_step_up")  # large amounts; step-up is tested apart
    def test_a_refused_request_can_be_retried_with_its_key(self, user_client, jod, account_factory):
        receiver = account_factory()
        refused = external(user_client, jod.pk, receiver.pk, "2000.000", HTTP_IDEMPOTENCY_KEY="retry")
        assert refused.status_code == 422
        fund(jod, Decimal("2000"))
        assert external(user_client, jod.pk, receiver.pk, "2000.000", HTTP_IDEMPOTENCY_KEY="retry").status_code == 201

    @pytest.mark.parametrize("key", ["", "x" * 65, "bad\nkey", "ключ"])
    def test_malformed_keys_are_400(self, user_client, jod, account_factory, key):
        response = external(user_client, jod.pk, account_factory().pk, "1.000", idempotency_key=key)
        assert response.status_code == 400


class TestVisibility:
    def test_lists_are_scoped_to_the_caller(self, alice, other_user, user_client, client_for, jod, account_factory):
        mine = account_factory(owner=alice)
        bobs = account_factory(owner=other_user)
        internal(user_client, jod.pk, mine.pk, "1.000")
        external(user_client, jod.pk, bobs.pk, "2.000")
        stranger_account = account_factory(funded=Decimal("10.000"))
        external(client_for(stranger_account.owner), stranger_account.pk, account_factory().pk, "1.000")
        assert len(user_client.get("/transfers/internal/").json()["results"]) == 1
        assert len(user_client.get("/transfers/external").json()["results"]) == 1
        bob_view = client_for(other_user).get("/transfers/external/").json()["results"]
        assert len(bob_view) == 1
        assert bob_view[0]["sender_balance_after"] is None  # the receiver never sees the sender's balance
        assert bob_view[0]["receiver_balance_after"] == "2.000"
        assert client_for(other_user).get("/transfers/internal/").json()["results"] == []

    def test_transfer_detail_is_404_for_strangers(self, user_client, client_for, jod, account_factory):
        txn_id = external(user_client, jod.pk, account_factory().pk, "1.000").json()["id"]
        assert user_client.get(f"/transfers/{txn_id}/").status_code == 200
        stranger = account_factory().owner
        assert client_for(stranger).get(f"/transfers/{txn_id}/").status_code == 404


class TestReversal:
    def test_staff_reverses_once(self, user_client, staff_client, jod, account_factory):
        receiver = account_factory(type="USD")
        txn_id = external(user_client, jod.pk, receiver.pk, "100.000").json()["id"]
        response = post_json(staff_client, f"/transfers/{txn_id}/reverse/", {"reason": "fraud report"})
        assert response.status_code == 201
        body = response.json()
        assert body["kind"] == "reversal" and body["reverses"] == txn_id
        jod.refresh_from_db()
        receiver.refresh_from_db()
        assert (jod.balance, receiver.balance) == (Decimal("1000.000"), Decimal("0"))  # fee refunded too
        assert Transaction.objects.get(pk=txn_id).status == "REVERSED"
        again = post_json(staff_client, f"/transfers/{txn_id}/reverse/", {"reason": "again"})
        assert (again.status_code, error_code(again)) == (422, "already_reversed")

    @pytest.mark.parametrize(("source", "target", "amount", "rate", "inverse"), [
        ("Savings", "USD", "100.000", "1.41", "0.70922"), ("USD", "Savings", "100.00", "0.70922", "1.41"),
        ("USD", "EUR", "100.00", "0.929078", "1.076336"), ("Savings", "Salary", "1.000", None, None),
    ])
    def test_a_reversal_records_the_rate_of_its_own_direction(self, alice, user_client, staff_client,
                                                               account_factory, source, target, amount, rate,
                                                               inverse):
        """fx_rate is units credited per unit sent; a reversal sends the credited currency back, so
        its rate is the inverse of the original's (it used to copy the original's)."""
        sender = account_factory(owner=alice, type=source, funded=Decimal("1000"))
        receiver = account_factory(owner=alice, type=target)
        original = internal(user_client, sender.pk, receiver.pk, amount).json()
        assert original["fx_rate"] == rate
        body = post_json(staff_client, f"/transfers/{original['id']}/reverse/", {"reason": "r"}).json()
        assert (body["currency"], body["credited_currency"]) == (original["credited_currency"], original["currency"])
        assert (body["amount"], body["credited_amount"]) == (original["credited_amount"], original["amount"])
        assert body["fx_rate"] == inverse

    def test_customers_cannot_reverse(self, user_client, jod, account_factory):
        txn_id = external(user_client, jod.pk, account_factory().pk, "1.000").json()["id"]
        response = post_json(user_client, f"/transfers/{txn_id}/reverse/", {"reason": "mine"})
        assert (response.status_code, error_code(response)) == (403, "permission_denied")

    def test_reversal_refused_when_receiver_spent_the_money(self, user_client, staff_client, client_for, jod,
                                                             account_factory):
        receiver = account_factory()
        txn_id = external(user_client, jod.pk, receiver.pk, "100.000").json()["id"]
        external(client_for(receiver.owner), receiver.pk, jod.pk, "99.000")
        before = money_snapshot()
        response = post_json(staff_client, f"/transfers/{txn_id}/reverse/", {"reason": "late"})
        assert (response.status_code, error_code(response)) == (422, "insufficient_funds")
        assert money_snapshot() == before

    def test_unknown_transaction_is_404(self, staff_client):
        response = post_json(staff_client, "/transfers/00000000-0000-0000-0000-000000000000/reverse/", {"reason": "x"})
        assert response.status_code == 404


class TestBills:
    def test_billers_list(self, user_client):
        billers = user_client.get("/billers/").json()["results"]
        assert {"id", "name", "category", "currency"} == set(billers[0])
        assert any("Electric" in b["name"] for b in billers)

    def test_pay_a_bill_in_the_same_currency(self, user_client, jod):
        biller = BillerFactory()
        response = post_json(user_client, "/bill/", {"account": jod.pk, "biller": biller.pk, "amount": "35.250",
                                                     "reference": "INV-77"}, HTTP_IDEMPOTENCY_KEY="bill-1")
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"id", "account", "biller", "amount", "currency", "debited_amount", "reference",
                             "status", "balance_after", "created_at"}
        assert (body["status"], body["amount"], body["debited_amount"], body["balance_after"]) == (
            "PAID", "35.250", "35.250", "964.750")
        replay = post_json(user_client, "/bill/", {"account": jod.pk, "biller": biller.pk, "amount": "35.250",
                                                   "reference": "INV-77"}, HTTP_IDEMPOTENCY_KEY="bill-1")
        assert replay["Idempotent-Replayed"] == "true" and BillPayment.objects.count() == 1
        assert user_client.get(f"/bill/{body['id']}/").json() == body
        assert len(user_client.get("/bill/").json()["results"]) == 1
        assert user_client.put(f"/bill/{body['id']}/", {}, format="json").status_code == 405
        assert user_client.delete(f"/bill/{body['id']}/").status_code == 405

    def test_pay_a_bill_from_another_currency_converts(self, alice, user_client, account_factory):
        usd = account_factory(owner=alice, type="USD", funded=Decimal("100.00"))
        biller = BillerFactory(currency="JOD")
        body = post_json(user_client, "/bill/", {"account": usd.pk, "biller": biller.pk, "amount": "10.000",
                                                 "reference": "R"}).json()
        assert (body["currency"], body["debited_amount"], body["balance_after"]) == ("JOD", "14.10", "85.90")

    def test_a_converted_bill_debits_its_price_rounded_up(self, user_client, jod):
        """The biller gets the whole amount, so the debit is what it costs: 10.00 USD / 1.41 =
        7.09219.. JOD -> 7.093 (7.092 would convert back to only 9.99 USD)."""
        biller = BillerFactory(currency="USD")
        body = post_json(user_client, "/bill/", {"account": jod.pk, "biller": biller.pk, "amount": "10.00",
                                                 "reference": "R"}).json()
        assert (body["amount"], body["currency"], body["debited_amount"], body["balance_after"]) == (
            "10.00", "USD", "7.093", "992.907")

    @pytest.mark.usefixtures("no_step_up")  # large amounts; step-up is tested apart
    def test_bill_errors(self, user_client, jod, account_factory):
        biller = BillerFactory()
        before = money_snapshot()
        too_much = post_json(user_client, "/bill/", {"account": jod.pk, "biller": biller.pk, "amount": "5000.000",
                                                     "reference": "R"})
        assert error_code(too_much) == "insufficient_funds"
        theirs = post_json(user_client, "/bill/", {"account": account_factory(funded=Decimal(10)).pk,
                                                   "biller": biller.pk, "amount": "1.000", "reference": "R"})
        assert theirs.status_code == 404
        unknown = post_json(user_client, "/bill/", {"account": jod.pk, "biller": 999999, "amount": "1.000",
                                                    "reference": "R"})
        assert unknown.status_code == 400
        assert money_snapshot()["transactions"] == before["transactions"] + 1  # only the funding deposit of 'theirs'

    def test_bills_of_others_are_404(self, user_client, client_for, account_factory):
        account = account_factory(funded=Decimal("50.000"))
        biller = BillerFactory()
        bill_id = post_json(client_for(account.owner), "/bill/", {"account": account.pk, "biller": biller.pk,
                                                                   "amount": "1.000", "reference": "R"}).json()["id"]
        assert user_client.get(f"/bill/{bill_id}/").status_code == 404
