"""Notifications (contract v1.2): rows created after the commit of what they report, pushed at once.

- Money: a receiver of ``api.signals.money_moved`` (the job worker's, api.reactions: exactly once for
  each committed movement) writes one row per customer concerned, for a whole batch in one INSERT:
  ``transfer_out`` or ``bill_paid`` to the sender, ``transfer_in`` or ``deposit`` to the receiver,
  ``reversal`` to both.
- Security: services call :func:`security_alert` inside their own transaction; the row is written in
  it, so a refused change notifies nobody and a committed one always does.
- Each row carries ids only (the transaction, the customer's own account): never a balance, never
  another customer's account details beyond the number they already see on the transaction.
- With its rows (PostgreSQL layer: in the same statement) or once they commit (Redis), each is
  published to its user's group on the channel layer
  (``nexus.realtime``), and every open socket of that user (api.consumers) receives it as
  :func:`as_json` renders it: the same JSON object ``GET /notifications/`` lists.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from nexus.aftercommit import after_commit
from nexus.realtime import postgres_publication, publish

from .. import money, queries
from ..bankday import iso_utc
from ..models import Account, Notification, Transaction, User

Kind = Notification.Kind
PUSH = "notification.push"  # the consumer's handler: notification_push
REVOKED = "sessions.revoked"  # the consumer's handler: sessions_revoked


def user_group(user_id) -> str:
    """The channel-layer group of every socket a user has open."""
    return f"user.{user_id}"


def as_json(notification: Notification) -> dict:
    """A notification as the API shows it, the same object ``GET /notifications/`` lists
    (``NotificationSerializer`` writes it with this) and the WebSocket pushes."""
    return {"id": str(notification.id), "kind": notification.kind, "title": notification.title,
            "body": notification.body, "data": notification.data, "read": notification.read,
            "created_at": iso_utc(notification.created_at)}


def _create(rows: list[Notification]) -> None:
    """Write ``rows`` and push each to its user's open sockets: one statement on the PostgreSQL layer
    (rows and pushes commit together, in the caller's transaction: the job worker's for money, the
    operation's own for security alerts), the rows then a push per row after the commit on Redis."""
    if not rows:
        return
    messages = [(user_group(row.user_id), {"type": PUSH, "notification": as_json(row)}) for row in rows]
    publication = postgres_publication(messages)
    queries.insert_notifications(rows, publication)
    if publication is None:
        after_commit(publish, messages)


def _owners(txn: Transaction, *numbers: str) -> dict[str, str | None]:
    """Account number -> owning customer (None for the bank's own), reading only accounts not at hand."""
    at_hand = {}
    for name in ("sender_account", "receiver_account"):
        if Transaction._meta.get_field(name).is_cached(txn):
            account = getattr(txn, name)
            at_hand[account.pk] = account
    missing = [number for number in numbers if number not in at_hand]
    if missing:
        at_hand.update({account.pk: account for account in Account.objects.filter(pk__in=missing)})
    return {number: None if at_hand[number].is_house else at_hand[number].owner_id for number in numbers}


def _amount(value, currency) -> str:
    return f"{money.fmt(value, currency)} {currency}"


def money_moved(transactions: list[Transaction]) -> None:
    """The rows a batch of committed movements makes, in one statement (the job worker's, api.reactions).

    A row is dated when it is written (a list read by cursor never gets a row behind a page already read),
    a microsecond apart in the batch's order, oldest movement first (api.signals): the rows of one batch list
    in the order the movements were made (their ids are random), a deposit before the transfer that spent it."""
    rows: list[Notification] = []
    now = timezone.now()
    for txn in transactions:
        _movement_rows(txn, now, rows)
    _create(rows)


def _movement_rows(txn: Transaction, now, rows: list[Notification]) -> None:
    sender, receiver = txn.sender_account_id, txn.receiver_account_id
    out_amount, in_amount = _amount(txn.amount, txn.currency), _amount(txn.credited_amount, txn.credited_currency)

    def row(owner, kind, title, body, account):
        if owner is not None:
            rows.append(Notification(user_id=owner, kind=kind, title=title, body=body,
                                     created_at=now + dt.timedelta(microseconds=len(rows)),
                                     data={"transaction_id": str(txn.pk), "account": account}))

    if txn.kind == Transaction.Kind.REVERSAL:
        # Both sides of the original: the money goes back to whoever paid it.
        owners = _owners(txn, sender, receiver)
        row(owners[receiver], Kind.REVERSAL, "Payment reversed", f"{in_amount} returned to {receiver}.", receiver)
        row(owners[sender], Kind.REVERSAL, "Payment reversed", f"{out_amount} taken back from {sender}.", sender)
    elif txn.kind == Transaction.Kind.DEPOSIT:
        row(_owners(txn, receiver)[receiver], Kind.DEPOSIT, "Cash deposit", f"{in_amount} deposited to {receiver}.",
            receiver)
    elif txn.kind == Transaction.Kind.BILL:
        row(_owners(txn, sender)[sender], Kind.BILL_PAID, "Bill paid",
            f"{out_amount} paid from {sender}: {txn.description}.", sender)
    else:
        owners = _owners(txn, sender, receiver)
        row(owners[sender], Kind.TRANSFER_OUT, "Money sent", f"{out_amount} sent from {sender} to {receiver}.", sender)
        row(owners[receiver], Kind.TRANSFER_IN, "Money received", f"{in_amount} received on {receiver}.", receiver)


REFUSAL_REASONS = {
    "insufficient_funds": "the balance did not cover it",
    "daily_limit_exceeded": "it would have passed the account's daily limit",
    "account_inactive": "an account is frozen or closed",
    "receiver_not_found": "the receiving account is no longer active",
}


def standing_order_refused(*, order, run_on, code: str) -> None:
    """A refused run of a standing order (contract v1.3), written in the run's transaction."""
    amount = _amount(order.amount, order.currency)
    reason = REFUSAL_REASONS.get(code, code.replace("_", " "))
    _create([Notification(
        user_id=order.owner_id, kind=Kind.STANDING_ORDER_REFUSED, title="Standing order not paid",
        body=f"{amount} to {order.receiver_account_id} due {run_on.isoformat()} was not paid: {reason}. "
             "The order stays active.",
        data={"standing_order_id": str(order.pk), "run_on": run_on.isoformat(), "error_code": code,
              "account": order.sender_account_id},
        created_at=timezone.now())])


def security_alert(*, user_id, event: str, title: str, body: str, data: dict | None = None) -> None:
    """A ``security_alert`` for ``user_id``, written in the caller's transaction (v1.3: it commits with
    what it reports, or not at all; on the PostgreSQL channel layer its push too)."""
    _create([Notification(user_id=user_id, kind=Kind.SECURITY_ALERT, title=title, body=body,
                          data={"event": event, **(data or {})}, created_at=timezone.now())])


def recent_alert(*, user_id, event: str, within) -> bool:
    """Whether ``user_id`` was already alerted of ``event`` in the last ``within``."""
    return Notification.objects.filter(user_id=user_id, kind=Kind.SECURITY_ALERT, data__event=event,
                                       created_at__gt=timezone.now() - within).exists()


def sessions_revoked(*, user_id, token_version: int) -> None:
    """Once the caller's transaction commits, close every socket of ``user_id`` opened with a token
    older than ``token_version`` (a revocation stops the stream too, not only the API)."""
    after_commit(publish, [(user_group(user_id), {"type": REVOKED, "token_version": token_version})])


@transaction.atomic
def mark_read(*, user: User, notification_id) -> bool:
    """Mark one of the user's notifications read; False when it is not theirs (or does not exist)."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        return False
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    return True


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
