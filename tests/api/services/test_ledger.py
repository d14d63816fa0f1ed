"""The database is the last line of defence: constraints and triggers, checked by bypassing the ORM."""

import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import money
from api.exceptions import AmountTooSmall
from api.models import Account, LedgerEntry, Transaction
from api.services.transfers import transfer_external
from tests.api.helpers import totals_by_currency

pytestmark = pytest.mark.django_db


def test_verify_ledger_passes_on_a_consistent_ledger(account_factory):
    account_factory(funded=Decimal("10.000"))
    call_command("verify_ledger")


def test_verify_ledger_catches_a_corrupted_balance(account_factory):
    account = account_factory(funded=Decimal("10.000"))
    Account.objects.filter(pk=account.pk).update(balance=Decimal("11.000"))
    with pytest.raises(CommandError, match=account.pk):
        call_command("verify_ledger")


def test_negative_balance_is_refused_by_the_database(account_factory):
    account = account_factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-0.001"))


def test_non_positive_transaction_amount_is_refused(account_factory):
    a, b = account_factory(), account_factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(kind="internal", sender_account=a, receiver_account=b, amount=0, currency="JOD",
                                   credited_amount=1, credited_currency="JOD")


@pytest.mark.django_db(transaction=True)
def test_unbalanced_legs_are_refused_at_commit(account_factory):
    a, b = account_factory(), account_factory()
    with pytest.raises(IntegrityError, match="ledger not balanced"), transaction.atomic():
        txn = Transaction.objects.create(kind="internal", sender_account=a, receiver_account=b, amount=5,
                                         currency="JOD", credited_amount=5, credited_currency="JOD")
        LedgerEntry.objects.create(transaction=txn, account=a, amount=Decimal("-5"), currency="JOD")
        LedgerEntry.objects.create(transaction=txn, account=b, amount=Decimal("4.999"), currency="JOD")
    assert not Transaction.objects.exists()


def test_ledger_entries_are_append_only(account_factory):
    account_factory(funded=Decimal("10.000"))
    entry = LedgerEntry.objects.first()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("999"))
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM api_ledgerentry WHERE id = %s", [entry.pk])


CURRENCY_TYPE = {"JOD": "Savings", "USD": "USD", "EUR": "EUR"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.sampled_from(["JOD", "USD", "EUR"]),
    target=st.sampled_from(["JOD", "USD", "EUR"]),
    minor_units=st.integers(min_value=1, max_value=10**9),
)
def test_a_transfer_never_creates_or_destroys_money(account_factory, source, target, minor_units):
    """Per currency, customer + house balances (FX position and fee legs included) are unchanged."""
    places = 3 if source == "JOD" else 2
    amount = Decimal(minor_units).scaleb(-places)
    with pytest.raises(_Rollback), transaction.atomic():
        sender = account_factory(type=CURRENCY_TYPE[source], funded=amount * 2, daily_limit=Decimal("1e9"))
        receiver = account_factory(type=CURRENCY_TYPE[target])
        assert set(totals_by_currency().values()) <= {0}
        try:
            txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                                    amount=amount)
        except AmountTooSmall:
            # Worth less than one minor unit of the target currency: 422 amount_too_small, nothing written.
            assert money.convert(amount, source, target, {"USD": Decimal("1.41"), "EUR": Decimal("1.31")}) == 0
            raise _Rollback from None
        assert set(totals_by_currency().values()) <= {0}
        per_currency = {}
        for entry in txn.entries.all():
            per_currency[entry.currency] = per_currency.get(entry.currency, 0) + entry.amount
        assert set(per_currency.values()) == {0}
        sender.refresh_from_db()
        assert sender.balance == amount * 2 - amount - txn.fee_amount
        raise _Rollback


class _Rollback(Exception):
    """Undo one hypothesis example's writes."""


def test_unknown_uuid_never_crashes(user_client):
    assert user_client.get(f"/transfers/{uuid.uuid4()}/").status_code == 404


def test_the_posting_writes_every_column_of_the_ledger():
    from api.queries import LINE_FIELDS, SHARED_ENTRY_FIELDS

    assert {LedgerEntry._meta.get_field(name).column for name in SHARED_ENTRY_FIELDS + LINE_FIELDS} == {
        f.column for f in LedgerEntry._meta.concrete_fields if not f.db_returning}
