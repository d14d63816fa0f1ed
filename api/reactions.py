"""What a committed money movement owes, carried out by a worker (contract v1.3; nexus.jobs).

The posting statement writes a ``money_moved`` job in the movement's own transaction
(api.queries.posting); a worker hands waiting jobs here in batches and deletes them in the same
transaction as everything the receivers of ``api.signals.money_moved`` write: the notifications
(api.receivers), the business facts (business) and the risk screening (risk). A receiver that
raises fails the batch, which is retried: a reaction happens exactly once, never best-effort.
"""

from django.db import connection

from . import queries
from .models import Transaction, User
from .signals import money_moved, money_refused

MONEY_REFUSED = "money_refused"  # a job per refused money movement, keyed by the user (api.idempotency)


def on_money_moved(jobs) -> None:
    """``settings.NEXUS_JOB_HANDLERS["money_moved"]``: one batch of committed movements."""
    transactions = queries.movements([job.key for job in jobs])
    if transactions:
        money_moved.send(sender=Transaction, transactions=transactions)


def on_money_refused(jobs) -> None:
    """``settings.NEXUS_JOB_HANDLERS["money_refused"]``: each refusal, to the receivers of
    ``api.signals.money_refused`` (the business figures), in the worker's transaction."""
    for job in jobs:
        user = User.from_db(connection.alias, ["id"], [job.key])
        money_refused.send(sender=None, user=user, kind=job.payload["kind"], code=job.payload["code"],
                           account=job.payload.get("account"))
