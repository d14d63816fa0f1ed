"""Transfers, deposits and reversals. Each is one database transaction: lock, check, post."""

from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.db import transaction as db_transaction

from .. import exceptions, money
from ..bankday import bank_day
from ..locks import lock_accounts
from ..models import Account, LedgerEntry, Transaction, User
from . import stepup
from .audit import Action, audit
from .fx import quote
from .house import house_account_number
from .ledger import Leg, book

Kind = Transaction.Kind
Purpose = LedgerEntry.Purpose


def fee_for(amount: Decimal, currency: str) -> Decimal:
    """``amount x rate`` rounded up to the minor unit: splitting a payment never avoids the fee."""
    return money.quantize(amount * Decimal(settings.EXTERNAL_TRANSFER_FEE_RATE), currency, ROUND_UP)


def check_amount(amount: Decimal, currency: str, field: str = "amount") -> None:
    if not money.fits_currency(amount, currency):
        places = money.MINOR_UNITS[currency]
        raise exceptions.InvalidInput(
            f"{currency} amounts have at most {places} decimal places.",
            details={field: [f"{currency} amounts have at most {places} decimal places."]},
        )


def check_daily_limit(account: Account, amount: Decimal) -> None:
    """Today's outgoing amounts plus this one may not exceed the limit (the counter is on the locked row)."""
    spent = account.spent_on_day(bank_day())
    if spent + amount > account.daily_limit:
        raise exceptions.DailyLimitExceeded(
            details={
                "daily_limit": money.fmt(account.daily_limit, account.currency),
                "used_today": money.fmt(spent, account.currency),
            }
        )


def conversion_legs(
    *, source: str, debit_account: str, amount: Decimal, target: str, credit_account: str, credited: Decimal
) -> list[Leg]:
    """Legs moving ``amount`` of ``source`` out of one account and ``credited`` of ``target`` into another.

    A cross-currency movement goes through the FX position house accounts, so each currency
    balances on its own.
    """
    if source == target:
        return [Leg(debit_account, -amount, source), Leg(credit_account, amount, target)]
    return [
        Leg(debit_account, -amount, source),
        Leg(house_account_number(Account.Role.FX, source), amount, source, Purpose.FX),
        Leg(house_account_number(Account.Role.FX, target), -credited, target, Purpose.FX),
        Leg(credit_account, credited, target),
    ]


def require_active(*accounts: Account) -> None:
    for account in accounts:
        if not account.is_active:
            raise exceptions.AccountInactive(details={"account": account.pk})


def check_funds(account: Account, total: Decimal) -> None:
    if account.balance < total:
        raise exceptions.InsufficientFunds(
            details={"available": money.fmt(account.balance, account.currency), "required": money.fmt(total, account.currency)}
        )


INTERNAL_RECEIVER_NOT_FOUND = ("Receiver account not found among your accounts: an internal transfer moves money between "
                               "your own accounts. To pay another customer, use POST /transfers/external/.")


def _transfer(
    *, kind: str, user: User, sender_number: str, receiver_number: str, amount: Decimal,
    description: str = "", idempotency_key: str | None = None, stepped_up: bool = False,
) -> Transaction:
    if sender_number == receiver_number:
        raise exceptions.SameAccount()
    totals = None
    if kind == Kind.EXTERNAL and not stepped_up:  # the user's row before the accounts (the order every service takes)
        totals, locked = stepup.lock_for_uncoded_payment(user, [sender_number, receiver_number])
    else:
        locked = lock_accounts([sender_number, receiver_number])
    sender = locked.get(sender_number)
    if sender is None or sender.owner_id != user.pk:
        raise exceptions.NotFound("Sender account not found.")
    check_amount(amount, sender.currency)
    uncoded_total = None
    if totals is not None:  # the step-up (403) comes before the business rules (422)
        uncoded_total = stepup.uncoded_payment(user=user, amount=amount, currency=sender.currency, totals=totals)
    receiver = locked.get(receiver_number)
    if kind == Kind.INTERNAL:
        if receiver is None or receiver.owner_id != user.pk:  # unknown and someone else's alike (never revealed)
            raise exceptions.NotFound(INTERNAL_RECEIVER_NOT_FOUND, details={"external_transfers": "/transfers/external/"})
    elif receiver is None or receiver.role != Account.Role.CUSTOMER or not receiver.is_active:
        # A frozen receiver answers exactly like an unknown number: nobody learns it exists.
        raise exceptions.ReceiverNotFound()
    # Re-checked under the lock: state read before it could be stale.
    require_active(sender, receiver)
    credited, fx_rate = quote(amount, sender.currency, receiver.currency)
    fee = fee_for(amount, sender.currency) if kind == Kind.EXTERNAL else Decimal(0)
    check_daily_limit(sender, amount)
    check_funds(sender, amount + fee)

    legs = conversion_legs(
        source=sender.currency, debit_account=sender.pk, amount=amount,
        target=receiver.currency, credit_account=receiver.pk, credited=credited,
    )
    if fee:
        legs += [
            Leg(sender.pk, -fee, sender.currency, Purpose.FEE),
            Leg(house_account_number(Account.Role.FEES, sender.currency), fee, sender.currency, Purpose.FEE),
        ]
    return book(
        locked=locked, legs=legs, kind=kind, sender_account=sender, receiver_account=receiver,
        amount=amount, currency=sender.currency, fee_amount=fee, credited_amount=credited,
        credited_currency=receiver.currency, fx_rate=fx_rate, description=description,
        idempotency_key=idempotency_key, initiated_by=user, uncoded_total=uncoded_total,
    )


@db_transaction.atomic(savepoint=False)
def transfer_internal(*, user: User, sender_number: str, receiver_number: str, amount: Decimal,
                      description: str = "", idempotency_key: str | None = None,
                      stepped_up: bool = False) -> Transaction:
    """Between two accounts of the same customer. No fee, no step-up."""
    return _transfer(kind=Kind.INTERNAL, user=user, sender_number=sender_number, receiver_number=receiver_number,
                     amount=amount, description=description, idempotency_key=idempotency_key)


@db_transaction.atomic(savepoint=False)
def transfer_external(*, user: User, sender_number: str, receiver_number: str, amount: Decimal,
                      description: str = "", idempotency_key: str | None = None,
                      stepped_up: bool = False) -> Transaction:
    """To any other active customer account; the sender pays a fee on top, in its own currency.
    ``stepped_up``: a second-factor code confirmed this payment (else the daily total of payments made
    without one applies, api.services.stepup)."""
    return _transfer(kind=Kind.EXTERNAL, user=user, sender_number=sender_number, receiver_number=receiver_number,
                     amount=amount, description=description, idempotency_key=idempotency_key,
                     stepped_up=stepped_up)


@db_transaction.atomic(savepoint=False)
def deposit(*, staff: User, account_number: str, amount: Decimal, description: str = "",
            idempotency_key: str | None = None, approved_by: User | None = None) -> Transaction:
    """A teller cash deposit: money enters the bank from the cash vault. ``approved_by``: ``staff``'s held
    request approved by them (api.services.approvals), which the audit record names as its actor."""
    locked = lock_accounts([account_number])
    account = locked.get(account_number)
    if account is None or account.role != Account.Role.CUSTOMER:
        raise exceptions.NotFound("Account not found.")
    check_amount(amount, account.currency)
    require_active(account)
    vault = house_account_number(Account.Role.VAULT, account.currency)
    txn = book(
        locked=locked,
        legs=[Leg(vault, -amount, account.currency), Leg(account.pk, amount, account.currency)],
        kind=Kind.DEPOSIT, sender_account_id=vault, receiver_account=account, amount=amount,
        currency=account.currency, credited_amount=amount, credited_currency=account.currency,
        description=description or "Cash deposit", idempotency_key=idempotency_key, initiated_by=staff,
    )
    audit(actor=staff, action=Action.DEPOSIT, object_type="transaction", object_id=txn.pk, changes={
        "account": [None, account.pk], "amount": [None, money.fmt(amount, account.currency)],
        "currency": [None, account.currency], "status": [None, txn.status],
    }, approved_by=approved_by)
    return txn


@db_transaction.atomic(savepoint=False)
def reverse_transaction(*, staff: User, transaction_id, reason: str, idempotency_key: str | None = None,
                        approved_by: User | None = None) -> Transaction:
    """Post the exact mirror of a transaction's legs (fee and FX legs included) and mark it REVERSED.
    ``approved_by``: as for :func:`deposit`."""
    original = (
        Transaction.objects.select_for_update(no_key=True).filter(pk=transaction_id).first()
    )
    if original is None:
        raise exceptions.NotFound("Transaction not found.")
    if original.status == Transaction.Status.REVERSED:
        raise exceptions.AlreadyReversed()
    if original.kind == Kind.REVERSAL or original.status != Transaction.Status.SUCCESS:
        raise exceptions.NotReversible()
    entries = list(original.entries.all())
    locked = lock_accounts([entry.account_id for entry in entries])
    customer = {number: account for number, account in locked.items() if account.role == Account.Role.CUSTOMER}
    for number, account in customer.items():
        received = sum((entry.amount for entry in entries if entry.account_id == number), Decimal(0))
        if received > 0:
            check_funds(account, received)
    legs = [Leg(entry.account_id, -entry.amount, entry.currency, entry.purpose) for entry in entries]
    compensating = book(
        locked=customer, legs=legs, kind=Kind.REVERSAL,
        sender_account_id=original.receiver_account_id, receiver_account_id=original.sender_account_id,
        amount=original.credited_amount, currency=original.credited_currency,
        credited_amount=original.amount + original.fee_amount, credited_currency=original.currency,
        fx_rate=money.inverse_rate(original.fx_rate), description=reason, idempotency_key=idempotency_key,
        initiated_by=staff, reverses=original,
    )
    Transaction.objects.filter(pk=original.pk).update(status=Transaction.Status.REVERSED)
    original.status = Transaction.Status.REVERSED
    if hasattr(original, "bill_payment"):
        type(original.bill_payment).objects.filter(pk=original.bill_payment.pk).update(status="REVERSED")
    audit(actor=staff, action=Action.REVERSAL, object_type="transaction", object_id=original.pk, changes={
        "status": [Transaction.Status.SUCCESS, Transaction.Status.REVERSED],
        "reversal": [None, compensating.pk], "reason": [None, reason],
    }, approved_by=approved_by)
    return compensating
