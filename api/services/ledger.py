"""Posting: the single way money moves. Balances, the transaction row and its ledger legs."""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection
from django.utils import timezone

from nexus import sql
from nexus.aftercommit import send_after_commit

from .. import exceptions
from ..bankday import bank_day
from ..models import Account, LedgerEntry, Transaction
from ..signals import money_moved


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: negative debits, positive credits
    currency: str
    purpose: str = LedgerEntry.Purpose.PRINCIPAL


# Written columns: every concrete field of the transaction; the ledger lines of one posting share
# their transaction and time, and their other columns (LINE_COLUMNS) travel as one array each. No
# model instance per line (four per transfer cost more than the INSERT), and the statement's text
# and parameter count are the same for every posting, whatever its number of legs and balances:
# psycopg converts it once and PostgreSQL prepares it once per connection.
SHARED_COLUMNS = ("transaction_id", "created_at")
LINE_COLUMNS = ("account_id", "amount", "currency", "purpose", "balance_after")
BALANCE_FIELDS = ("account_number", "balance", "spent_on", "spent_today")
# Together: every column of the ledger except its serial id (tests/api/test_ledger.py checks it).
ENTRY_COLUMNS = SHARED_COLUMNS + LINE_COLUMNS


def _column_max(field) -> Decimal:
    return Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(1).scaleb(-field.decimal_places)


# The largest values the account row's money columns hold.
BALANCE_MAX = _column_max(Account._meta.get_field("balance"))
SPENT_MAX = _column_max(Account._meta.get_field("spent_today"))


def _arrays(model, names) -> str:
    """``unnest(%s::type[], ...)`` over the named fields' column types."""
    casts = ", ".join(f"%s::{model._meta.get_field(name).db_type(connection)}[]" for name in names)
    return f"unnest({casts})"


@cache
def _statement() -> str:
    _, txn_columns, txn_values = sql.insert_columns(Transaction)
    return (
        "WITH balances AS (UPDATE api_account SET balance = v.balance, spent_on = v.spent_on, "
        f"spent_today = v.spent_today, updated_at = %s FROM {_arrays(Account, BALANCE_FIELDS)} "
        f"AS v({', '.join(BALANCE_FIELDS)}) WHERE api_account.account_number = v.account_number RETURNING 1), "
        f"txn AS (INSERT INTO api_transaction ({txn_columns}) VALUES ({txn_values}) RETURNING id) "
        f"INSERT INTO api_ledgerentry ({', '.join(ENTRY_COLUMNS)}) "
        f"SELECT %s, %s, {', '.join(f'v.{c}' for c in LINE_COLUMNS)} "
        f"FROM {_arrays(LedgerEntry, [c.removesuffix('_id') for c in LINE_COLUMNS])} AS v({', '.join(LINE_COLUMNS)})"
    )


def _write(changed: list[Account], txn: Transaction, lines: list[tuple], now) -> None:
    """Balances, transaction and legs in ONE statement (data-modifying CTEs): one round trip.

    ``lines`` are tuples in LINE_COLUMNS order. Column lists and types come from the models' own
    field definitions; only values are parameters. Every constraint still applies (balance >= 0,
    foreign keys, the deferred zero-sum trigger at commit).
    """
    params: list = [now]
    params += [[getattr(account, name) for account in changed] for name in BALANCE_FIELDS]
    params += sql.insert_values(txn)
    params += [txn.id, now]
    params += [list(column) for column in zip(*lines, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_statement(), params)


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
        entries.append((leg.account, leg.amount, leg.currency, str(leg.purpose), balance_after))
    txn.sender_balance_after = running.get(txn.sender_account_id)
    txn.receiver_balance_after = running.get(txn.receiver_account_id)
    changed = {number for number, balance in running.items() if balance != locked[number].balance}
    # Absolute values computed from the locked rows: safe because we hold the locks.
    for number in changed:
        locked[number].balance = running[number]
    changed |= _count_daily_spending(locked, txn, bank_day(now))
    # What the row's columns can hold, checked on the values about to be written (no query): the
    # database would refuse them with a numeric overflow, a 500 instead of a business answer.
    for number in changed:
        if locked[number].balance > BALANCE_MAX or locked[number].spent_today > SPENT_MAX:
            raise exceptions.BalanceLimit()

    _write([locked[number] for number in sorted(changed)], txn, entries, now)

    txn._state.adding = False
    txn._state.db = connection.alias
    send_after_commit(money_moved, sender=Transaction, transaction=txn)
    return txn
