"""Booking: the single way money moves. Balances, the transaction row and its ledger legs.

A money service locks the customer accounts it touches (api.locks), checks every rule on the locked
rows, then calls :func:`book` with the legs. ``book`` computes the new balances and the daily-limit
counter from the locked values and writes everything in one statement (``api.queries.book``).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from nexus import jobs
from nexus.context import current_request

from .. import exceptions, queries
from ..bankday import bank_day
from ..models import Account, LedgerEntry, Transaction


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: negative debits, positive credits
    currency: str
    purpose: str = LedgerEntry.Purpose.PRINCIPAL


def _column_max(field) -> Decimal:
    return Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(1).scaleb(-field.decimal_places)


# The largest values the account row's money columns hold.
BALANCE_MAX = _column_max(Account._meta.get_field("balance"))
SPENT_MAX = _column_max(Account._meta.get_field("spent_amount"))


def _count_daily_spending(locked: dict[str, Account], txn: Transaction, today) -> set[str]:
    """Keep the daily limit's counter on the locked sender row; return the accounts it changed.

    A limited transfer adds its amount to the sender's spending of the day. Reversing one frees
    its amount again when it was spent on the day still being counted, as the status of the
    original (no longer SUCCESS) takes it out of the day's sum.
    """
    if txn.kind in Transaction.OUTGOING_KINDS:
        sender = locked[txn.sender_account_id]
        sender.spent_amount, sender.spent_on = sender.spent_on_day(today) + txn.amount, today
        return {sender.pk}
    original = txn.reverses
    if original is not None and original.kind in Transaction.OUTGOING_KINDS:
        sender = locked.get(original.sender_account_id)
        if sender is not None and sender.spent_on == bank_day(original.created_at):
            sender.spent_amount -= original.amount
            return {sender.pk}
    return set()


def book(*, locked: dict[str, Account], legs: list[Leg], **transaction_fields) -> Transaction:
    """Apply ``legs`` to the ``locked`` customer accounts and record the transaction.

    The caller holds row locks on every customer account among the legs (``api.locks``) and has
    checked every business rule. House accounts (absent from ``locked``) are not updated: their
    balance is the sum of their entries. The ledger's zero-sum per currency is re-checked by the
    database at commit. The posting also owes the movement's reactions (notifications, business
    figures, risk screening): a job in the same statement, carried out by a worker (api.reactions).
    """
    now = timezone.now()
    running = {number: account.balance for number, account in locked.items()}
    txn = Transaction(created_at=now, **transaction_fields)
    lines = []
    for leg in legs:
        balance_after = None
        if leg.account in running:
            running[leg.account] += leg.amount
            balance_after = running[leg.account]
        lines.append(queries.Line(account=leg.account, amount=leg.amount, currency=leg.currency,
                                  purpose=str(leg.purpose), balance_after=balance_after))
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
        if locked[number].balance > BALANCE_MAX or locked[number].spent_amount > SPENT_MAX:
            raise exceptions.BalanceLimit()

    balances = [tuple(getattr(locked[number], name) for name in queries.BALANCE_FIELDS) for number in sorted(changed)]
    # The job carries the request's id: the worker's line for this posting (api.reactions) names the request
    # that made it.
    request_id = current_request().request_id
    queries.book(balances=balances, txn=txn, lines=lines, now=now,
                 job_payload={"request_id": request_id} if request_id else {})
    jobs.owed()

    txn._state.adding = False
    txn._state.db = connection.alias
    return txn
