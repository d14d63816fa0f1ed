"""Posting: the single way money moves. Balances, the transaction row and its ledger legs."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import Case, DecimalField, Value, When
from django.utils import timezone

from ..models import Account, LedgerEntry, Transaction
from ..signals import money_moved


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: negative debits, positive credits
    currency: str
    purpose: str = LedgerEntry.Purpose.PRINCIPAL


def post(*, locked: dict[str, Account], legs: list[Leg], **transaction_fields) -> Transaction:
    """Apply ``legs`` to the ``locked`` customer accounts and record the transaction.

    The caller holds row locks on every customer account among the legs (``api.locks``) and has
    checked every business rule. House accounts (absent from ``locked``) are neither locked nor
    updated. Three statements: one UPDATE for all balances, one INSERT for the transaction, one
    for its legs. The ledger's zero-sum per currency is re-checked by the database at commit.
    """
    now = timezone.now()
    running = {number: account.balance for number, account in locked.items()}
    entries = []
    for leg in legs:
        balance_after = None
        if leg.account in running:
            running[leg.account] += leg.amount
            balance_after = running[leg.account]
        entries.append(
            LedgerEntry(
                account_id=leg.account,
                amount=leg.amount,
                currency=leg.currency,
                purpose=leg.purpose,
                balance_after=balance_after,
                created_at=now,
            )
        )
    changed = {number: balance for number, balance in running.items() if balance != locked[number].balance}
    if changed:
        # Absolute values computed from the locked rows: safe because we hold the locks.
        Account.objects.filter(pk__in=changed).update(
            balance=Case(
                *[When(pk=number, then=Value(balance)) for number, balance in changed.items()],
                output_field=DecimalField(max_digits=20, decimal_places=3),
            ),
            updated_at=now,
        )
        for number, balance in changed.items():
            locked[number].balance = balance

    txn = Transaction(created_at=now, **transaction_fields)
    sender, receiver = txn.sender_account_id, txn.receiver_account_id
    txn.sender_balance_after = running.get(sender)
    txn.receiver_balance_after = running.get(receiver)
    txn.save(force_insert=True)
    for entry in entries:
        entry.transaction = txn
    LedgerEntry.objects.bulk_create(entries)
    txn._legs = entries
    db_transaction.on_commit(lambda: money_moved.send(sender=Transaction, transaction=txn))
    return txn
