"""Posting: the single way money moves. Balances, the transaction row and its ledger legs."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from ..bankday import bank_day
from ..models import Account, LedgerEntry, Transaction
from ..signals import money_moved


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: negative debits, positive credits
    currency: str
    purpose: str = LedgerEntry.Purpose.PRINCIPAL


# Written columns: every concrete field of the transaction; a ledger line is a plain row in the
# order of ENTRY_COLUMNS (no model instance per line: four per transfer cost more than the INSERT).
_TXN_FIELDS = list(Transaction._meta.concrete_fields)
ENTRY_COLUMNS = ("transaction_id", "account_id", "amount", "currency", "purpose", "balance_after", "created_at")
# Every column of the ledger except its serial id (tests/api/test_ledger.py holds the two together).


def _write(changed: list[Account], txn: Transaction, entries: list[tuple], now) -> None:
    """Balances, transaction and legs in ONE statement (data-modifying CTEs): one round trip.

    Column lists and values come from the models' own field definitions; only values are
    parameters. Every constraint still applies (balance >= 0, foreign keys, the deferred
    zero-sum trigger at commit).
    """
    params: list = []
    parts: list[str] = []
    if changed:
        rows = ", ".join("(%s, %s::numeric, %s::date, %s::numeric)" for _ in changed)
        params.append(now)
        for account in changed:
            params += [account.pk, account.balance, account.spent_on, account.spent_today]
        parts.append(
            "balances AS (UPDATE api_account SET balance = v.balance, spent_on = v.spent_on, "
            f"spent_today = v.spent_today, updated_at = %s FROM (VALUES {rows}) "
            "AS v(number, balance, spent_on, spent_today) WHERE api_account.account_number = v.number RETURNING 1)"
        )
    parts.append(
        f"txn AS (INSERT INTO api_transaction ({', '.join(f.column for f in _TXN_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(_TXN_FIELDS))}) RETURNING id)"
    )
    params += [f.get_db_prep_save(getattr(txn, f.attname), connection) for f in _TXN_FIELDS]
    row = "(" + ", ".join(["%s"] * len(ENTRY_COLUMNS)) + ")"
    value_rows = [row] * len(entries)
    for entry in entries:
        params += entry
    selected = ", ".join(f"v.{c}" for c in ENTRY_COLUMNS)
    typed = ", ".join(ENTRY_COLUMNS)
    sql = (
        "WITH " + ", ".join(parts) + f" INSERT INTO api_ledgerentry ({typed}) "
        f"SELECT {selected} FROM (VALUES {', '.join(value_rows)}) AS v({typed})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _count_daily_spending(locked: dict[str, Account], txn: Transaction, today) -> set[str]:
    """Keep the daily limit's counter on the locked sender row; return the accounts it changed.

    A limited transfer adds its amount to the sender's spending of the day. Reversing one frees
    its amount again when it was spent on the day still being counted, as the status of the
    original (no longer SUCCESS) takes it out of the day's sum.
    """
    if txn.kind in Transaction.LIMITED_KINDS:
        sender = locked[txn.sender_account_id]
        sender.spent_today, sender.spent_on = sender.spent_on_day(today) + txn.amount, today
        return {sender.pk}
    original = txn.reverses
    if original is not None and original.kind in Transaction.LIMITED_KINDS:
        sender = locked.get(original.sender_account_id)
        if sender is not None and sender.spent_on == bank_day(original.created_at):
            sender.spent_today -= original.amount
            return {sender.pk}
    return set()


def post(*, locked: dict[str, Account], legs: list[Leg], **transaction_fields) -> Transaction:
    """Apply ``legs`` to the ``locked`` customer accounts and record the transaction.

    The caller holds row locks on every customer account among the legs (``api.locks``) and has
    checked every business rule. House accounts (absent from ``locked``) are neither locked nor
    updated: their balance is the sum of their entries. The ledger's zero-sum per currency is
    re-checked by the database at commit.
    """
    now = timezone.now()
    running = {number: account.balance for number, account in locked.items()}
    txn = Transaction(created_at=now, **transaction_fields)
    entries = []
    for leg in legs:
        balance_after = None
        if leg.account in running:
            running[leg.account] += leg.amount
            balance_after = running[leg.account]
        entries.append((txn.id, leg.account, leg.amount, leg.currency, leg.purpose, balance_after, now))
    txn.sender_balance_after = running.get(txn.sender_account_id)
    txn.receiver_balance_after = running.get(txn.receiver_account_id)
    changed = {number for number, balance in running.items() if balance != locked[number].balance}
    # Absolute values computed from the locked rows: safe because we hold the locks.
    for number in changed:
        locked[number].balance = running[number]
    changed |= _count_daily_spending(locked, txn, bank_day(now))

    _write([locked[number] for number in sorted(changed)], txn, entries, now)

    txn._state.adding = False
    txn._state.db = connection.alias
    db_transaction.on_commit(lambda: money_moved.send(sender=Transaction, transaction=txn))
    return txn
