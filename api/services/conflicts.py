"""No staff member acts on what is their own (contract v1.3): the one rule, for the API and the admin alike.

"Their own" is an account they own, a transaction touching one (sender or receiver), a dual-control
request about one, or their own user. Every staff service asks :func:`refuse_own` before it acts; the
admin asks :func:`is_own` to hide the actions it would refuse.
"""

from collections.abc import Iterable

from .. import exceptions
from ..models import Account, Transaction, User

MESSAGE = "Staff cannot act on their own accounts, transactions or user: another staff member must."


def owners(*, accounts: Iterable[str] = (), transaction_id=None) -> set:
    """The users owning the given accounts and the accounts of the given transaction."""
    numbers = set(accounts)
    if transaction_id is not None:
        numbers.update(*Transaction.objects.filter(pk=transaction_id)
                       .values_list("sender_account_id", "receiver_account_id"))
    numbers.discard(None)
    if not numbers:
        return set()
    return set(Account.objects.filter(pk__in=numbers, owner__isnull=False).values_list("owner_id", flat=True))


def is_own(actor: User, *, owner_ids: Iterable = (), accounts: Iterable[str] = (), transaction_id=None,
           user_id=None) -> bool:
    """Whether the thing is ``actor``'s own: ``owner_ids`` when the caller already holds the rows (locked
    accounts), else looked up from ``accounts`` and ``transaction_id``; ``user_id`` for a user."""
    if user_id is not None and str(user_id) == str(actor.pk):
        return True
    if actor.pk in set(owner_ids):
        return True
    if accounts or transaction_id is not None:
        return actor.pk in owners(accounts=accounts, transaction_id=transaction_id)
    return False


def refuse_own(actor: User, **what) -> None:
    """403 ``permission_denied`` when the thing is ``actor``'s own (see :func:`is_own`)."""
    if is_own(actor, **what):
        raise exceptions.Forbidden(MESSAGE, details={"reason": "own"})
