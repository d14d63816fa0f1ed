"""Reads. Every queryset a view lists is built here, scoped to its viewer."""

import datetime as dt

from django.db.models import Q, QuerySet

from nexus import sql

from . import money
from .bankday import day_start
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


def sees_all_transactions(user: User) -> bool:
    """Staff whose roles may view transactions see every one; anyone else only their own."""
    return user.is_staff and user.has_perm("api.view_transaction")


def transactions_visible_to(user: User) -> QuerySet[Transaction]:
    qs = Transaction.objects.select_related("sender_account", "receiver_account")
    if sees_all_transactions(user):
        return qs
    own = Account.objects.filter(owner=user).values("pk")
    return qs.filter(Q(sender_account__in=own) | Q(receiver_account__in=own))


def transfers_of(user: User, kind: str) -> QuerySet[Transaction]:
    return transactions_visible_to(user).filter(kind=kind).order_by("-created_at", "-id")


def bills_of(user: User) -> QuerySet[BillPayment]:
    return BillPayment.objects.filter(account__owner=user).select_related("transaction").order_by("-created_at")


_ACCOUNT_FIELDS, _ACCOUNT_COLUMNS = sql.select_list(Account)
# accounts_of(user)[offset:offset + limit], written once (the hottest read of the API).
_ACCOUNT_PAGE_SQL = (
    f"SELECT {_ACCOUNT_COLUMNS} FROM {sql.table(Account)} WHERE \"owner_id\" = %s AND \"role\" = %s"  # noqa: S608
    ' ORDER BY "created_at", "account_number" LIMIT %s OFFSET %s'
)


def account_page(user: User, offset: int, limit: int) -> list[Account]:
    rows = sql.fetch(_ACCOUNT_PAGE_SQL, [user.pk, Account.Role.CUSTOMER, limit, offset])
    return sql.instances(Account, _ACCOUNT_FIELDS, rows)


# One statement answers both "is this the caller's account?" (no row: 404) and "which lines are on
# this page?" (one row per line, or a single row of NULLs for an empty page), newest first through
# the index ledger_account_created.
_STATEMENT_SQL = """
SELECT line.* FROM "api_account" account LEFT JOIN LATERAL (
    SELECT txn."id", txn."kind", entry."amount", entry."currency", entry."balance_after", entry."purpose",
           entry."created_at", entry."account_id", txn."description", txn."sender_account_id",
           txn."receiver_account_id"
    FROM "api_ledgerentry" entry JOIN "api_transaction" txn ON txn."id" = entry."transaction_id"
    WHERE entry."account_id" = account."account_number" {dates}
    ORDER BY entry."created_at" DESC, entry."id" DESC LIMIT %(limit)s OFFSET %(offset)s
) line ON TRUE
WHERE account."account_number" = %(number)s AND account."owner_id" = %(owner)s AND account."role" = %(role)s
"""


def statement_page(user: User, number: str, *, date_from: dt.date | None, date_to: dt.date | None,
                   offset: int, limit: int) -> list[dict] | None:
    """Statement lines of the caller's account, newest first; None when it is not the caller's.

    Dates are bank-local (Asia/Amman) days.
    """
    dates, params = "", {"number": number, "owner": user.pk, "role": Account.Role.CUSTOMER,
                         "limit": limit, "offset": offset}
    if date_from:
        dates += 'AND entry."created_at" >= %(start)s '
        params["start"] = day_start(date_from)
    if date_to:
        dates += 'AND entry."created_at" < %(end)s '
        params["end"] = day_start(date_to + dt.timedelta(days=1))
    rows = sql.fetch(_STATEMENT_SQL.format(dates=dates), params)
    if not rows:
        return None
    return [statement_line(*row) for row in rows if row[0] is not None]


def statement_line(transaction_id, kind, amount, currency, balance_after, purpose, created_at, account_id,
                   description, sender_account_id, receiver_account_id) -> dict:
    debit = amount < 0
    counterparty = receiver_account_id if debit else sender_account_id
    if counterparty == account_id:
        counterparty = sender_account_id if debit else receiver_account_id
    if purpose == LedgerEntry.Purpose.FEE:
        description = "Transfer fee" if debit else "Fee refund"
    return {
        "transaction_id": transaction_id,
        "kind": kind,
        "direction": "debit" if debit else "credit",
        "amount": money.fmt(abs(amount), currency),
        "currency": currency,
        "balance_after": money.fmt(balance_after, currency),
        "counterparty_account": counterparty,
        "description": description,
        "created_at": created_at,
    }
