"""Reads. Every queryset a view lists is built here, scoped to its viewer."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from . import money
from .models import Account, BillPayment, Card, LedgerEntry, Transaction, User

TRANSFER_KINDS = (Transaction.Kind.INTERNAL, Transaction.Kind.EXTERNAL)


def accounts_of(user: User) -> QuerySet[Account]:
    return Account.objects.filter(owner=user, role=Account.Role.CUSTOMER).order_by("created_at", "pk")


def account_of(user: User, number: str) -> Account | None:
    return accounts_of(user).filter(pk=number).first()


def cards_of_account(account: Account) -> QuerySet[Card]:
    return account.cards.order_by("-created_at")


def card_of(user: User, card_id) -> Card | None:
    return Card.objects.filter(pk=card_id, account__owner=user).first()


def transactions_visible_to(user: User) -> QuerySet[Transaction]:
    qs = Transaction.objects.select_related("sender_account", "receiver_account")
    if user.is_staff:
        return qs
    own = Account.objects.filter(owner=user).values("pk")
    return qs.filter(Q(sender_account__in=own) | Q(receiver_account__in=own))


def transfers_of(user: User, kind: str) -> QuerySet[Transaction]:
    return transactions_visible_to(user).filter(kind=kind).order_by("-created_at", "-id")


def bills_of(user: User) -> QuerySet[BillPayment]:
    return BillPayment.objects.filter(account__owner=user).select_related("transaction").order_by("-created_at")


def _bank_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.BANK_TIME_ZONE))


def statement_entries(account: Account, *, date_from: dt.date | None, date_to: dt.date | None):
    """Ledger lines of one customer account, newest first; dates are bank-local (Asia/Amman) days."""
    qs = LedgerEntry.objects.filter(account=account).select_related("transaction")
    if date_from:
        qs = qs.filter(created_at__gte=_bank_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_bank_day_start(date_to + dt.timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def statement_line(entry: LedgerEntry) -> dict:
    txn = entry.transaction
    debit = entry.amount < 0
    counterparty = txn.receiver_account_id if debit else txn.sender_account_id
    if counterparty == entry.account_id:
        counterparty = txn.sender_account_id if debit else txn.receiver_account_id
    description = txn.description
    if entry.purpose == LedgerEntry.Purpose.FEE:
        description = "Transfer fee" if debit else "Fee refund"
    return {
        "transaction_id": txn.pk,
        "kind": txn.kind,
        "direction": "debit" if debit else "credit",
        "amount": money.fmt(abs(entry.amount), entry.currency),
        "currency": entry.currency,
        "balance_after": money.fmt(entry.balance_after, entry.currency),
        "counterparty_account": counterparty,
        "description": description,
        "created_at": entry.created_at,
    }
