"""Reads. Every queryset a view lists is built here, scoped to its viewer."""

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from nexus.cursors import NEXT, PREVIOUS

from . import bounds, queries
from .bankday import day_start
from .models import (
    Account,
    Approval,
    Biller,
    BillPayment,
    Card,
    LedgerEntry,
    Notification,
    StandingOrder,
    StandingOrderRun,
    Transaction,
    TwoFactor,
    User,
)
from .roles import Power, may


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
    return may(user, Power.VIEW_TRANSACTIONS)


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


def account_page(user: User, offset: int, limit: int) -> list[Account]:
    """``accounts_of(user)[offset:offset + limit]`` (api.queries: the hottest read of the API)."""
    return queries.account_page(user.pk, offset, limit)


def statement_page(user: User, number: str, *, date_from: dt.date | None, date_to: dt.date | None,
                   cursor=None, limit: int) -> list[dict] | None:
    """Statement lines of the caller's account, newest first, from ``cursor`` (nexus.pagination: None, or
    (NEXT or PREVIOUS, time, line id)); None when it is not the caller's. Each line carries its
    ``_position`` for the next cursor.

    Dates are bank-local (Asia/Amman) days, within the bounds every date input has (api.bounds).
    """
    direction, *position = cursor or (None,)
    if position and not isinstance(position[1], int):
        raise ValueError("a statement line's position is a number")  # a cursor of another list: 400
    rows = queries.statement_page(
        owner_id=user.pk, number=number, limit=limit,
        start=day_start(date_from or bounds.EARLIEST),
        end=day_start((date_to or bounds.LATEST) + dt.timedelta(days=1)),
        older_than=tuple(position) if direction == NEXT else None,
        newer_than=tuple(position) if direction == PREVIOUS else None,
    )
    return None if rows is None else [statement_line(row) for row in rows]


def statement_line(row: queries.StatementRow) -> dict:
    """A statement line as the API shows it (``StatementLineSerializer``), from a row read by name."""
    amount, account_id, purpose, kind = row.amount, row.account_id, row.purpose, row.kind
    sender_account_id, receiver_account_id, description = row.sender_account_id, row.receiver_account_id, row.description
    debit = amount < 0
    counterparty = receiver_account_id if debit else sender_account_id
    if counterparty == account_id:
        counterparty = sender_account_id if debit else receiver_account_id
    if purpose == LedgerEntry.Purpose.FEE:
        description = "Transfer fee" if debit else "Fee refund"
    if kind == Transaction.Kind.DEPOSIT:
        counterparty = None  # the bank's cash vault, not an account a customer can pay or recognise
        description = description or "Cash deposit"
    return {
        "transaction_id": row.transaction_id,
        "kind": kind,
        "direction": "debit" if debit else "credit",
        "amount": abs(amount),
        "currency": row.currency,
        "balance_after": row.balance_after,
        "counterparty_account": counterparty,
        "description": description,
        "created_at": row.created_at,
        "_position": (row.created_at, row.line_id),
    }


def account_currency(user: User, number: str) -> str | None:
    """The currency of one of ``user``'s accounts; None when it is not theirs."""
    return accounts_of(user).filter(pk=number).values_list("currency", flat=True).first()


def biller_currency(biller_id: int) -> str | None:
    return Biller.objects.filter(pk=biller_id, is_active=True).values_list("currency", flat=True).first()


def notifications_of(user: User):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def standing_orders_visible_to(user: User) -> QuerySet[StandingOrder]:
    """The caller's own standing orders; every one for staff whose roles may view them (contract v1.3)."""
    if may(user, Power.VIEW_STANDING_ORDERS):
        return StandingOrder.objects.all()
    return StandingOrder.objects.filter(owner=user)


def standing_order_of(user: User, order_id) -> StandingOrder | None:
    return standing_orders_visible_to(user).filter(pk=order_id).first()


def runs_of(order: StandingOrder) -> QuerySet[StandingOrderRun]:
    return order.runs.all()


def email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def two_factor_enabled(user: User) -> bool:
    return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()


# --- the back office's look-ups ------------------------------------------------------------------

def customer_accounts() -> QuerySet[Account]:
    return Account.objects.filter(role=Account.Role.CUSTOMER).select_related("owner")


def account_exists(number: str) -> bool:
    return Account.objects.filter(pk=number).exists()


def account_with_owner(number: str | None) -> Account | None:
    return Account.objects.select_related("owner").filter(pk=number).first() if number else None


def user_by_pk(pk) -> User:
    return User.objects.get(pk=pk)


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first() if email else None


def pending_reversal_of(txn: Transaction):
    """The reversal of ``txn`` waiting for a second approver, if any."""
    return Approval.objects.filter(target_transaction=txn, status=Approval.Status.PENDING).first()


def pending_requests_of(user: User) -> int:
    return Approval.objects.filter(requested_by=user, status=Approval.Status.PENDING).count()


def standing_orders_with_latest_run(owner: User) -> list[StandingOrder]:
    """``owner``'s orders, active first, each with its latest run as ``latest`` (a list of at most one)."""
    return list(owner.standing_orders.select_related("receiver_account").order_by("status", "-created_at")
                .prefetch_related(Prefetch("runs", queryset=StandingOrderRun.objects.order_by("-run_on")[:1],
                                           to_attr="latest")))
