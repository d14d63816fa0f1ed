"""What a committed money movement owes, carried out by a worker (contract v1.3; nexus.jobs).

The posting statement writes a ``money_moved`` job in the movement's own transaction
(api.queries.posting); a worker hands waiting jobs here in batches and deletes them in the same
transaction as everything the receivers of ``api.signals.money_moved`` write: the notifications
(api.receivers), the business facts (business) and the risk screening (risk). A receiver that
raises fails the batch, which is retried: a reaction happens exactly once, never best-effort.
"""

import logging

from django.db import connection

from nexus import jobs

from . import queries
from .models import Transaction, User
from .signals import money_moved, money_refused

MONEY_REFUSED = "money_refused"  # a job per refused money movement, keyed by the user (api.idempotency)
log = logging.getLogger("api.money")


def owe_refusal(*, user_id, kind: str, code: str, account: str | None) -> None:
    """A refused money movement: one log line, and its ``money_refused`` job in the caller's transaction (the
    movement's own rolled back; the refusal commits on its own)."""
    log.info("refused", extra={"kind": kind, "code": code, "account": account, "user_id": str(user_id)})
    jobs.enqueue(MONEY_REFUSED, key=user_id, payload={"kind": kind, "code": code, "account": account})


def _log_posting(txn: Transaction, request_id: str | None) -> None:
    """One line per committed posting, with the id of the request that made it (its job's payload)."""
    extra = {"transaction": str(txn.pk), "kind": txn.kind, "amount": str(txn.amount), "currency": txn.currency,
             "sender": txn.sender_account_id, "receiver": txn.receiver_account_id}
    if request_id:
        extra["request_id"] = request_id
    log.info("posted", extra=extra)


def on_money_moved(jobs) -> None:
    """``settings.NEXUS_JOB_HANDLERS["money_moved"]``: one batch of committed movements, then a line for each."""
    transactions = queries.movements([job.key for job in jobs])
    if transactions:
        money_moved.send(sender=Transaction, transactions=transactions)
    request_ids = {job.key: job.payload.get("request_id") for job in jobs}
    for txn in transactions:
        _log_posting(txn, request_ids.get(str(txn.pk)))


def on_money_refused(jobs) -> None:
    """``settings.NEXUS_JOB_HANDLERS["money_refused"]``: each refusal, to the receivers of
    ``api.signals.money_refused`` (the business figures), in the worker's transaction."""
    for job in jobs:
        user = User.from_db(connection.alias, ["id"], [job.key])
        money_refused.send(sender=None, user=user, kind=job.payload["kind"], code=job.payload["code"],
                           account=job.payload.get("account"))
