"""The row locks several services take, each taken one way only: accounts, a user's row, refresh tokens.

A lock on one row that only its own service decides about (an approval request, a reversal's original,
an authenticator) stays in that service (docs/ARCHITECTURE.md, "Where a lock is taken").
"""

from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from . import queries
from .models import Account


def lock_accounts(numbers) -> dict[str, Account]:
    """Lock the given accounts in one statement, in primary-key order, and return them by number.

    ``FOR NO KEY UPDATE``: it is all a balance change needs, and unlike plain ``FOR UPDATE`` it
    does not conflict with the ``KEY SHARE`` locks that inserting a transaction or ledger row
    (foreign keys to these accounts) takes — plain ``FOR UPDATE`` deadlocks there even when all
    traffic goes one way. Sorting makes every transfer wait for the same rows in the same order,
    so A->B and B->A cannot deadlock either. Numbers that do not exist are simply absent.
    """
    return {account.pk: account for account in queries.lock_accounts(sorted(set(numbers)))}


def lock_outstanding_token(*, jti: str, user) -> OutstandingToken | None:
    """Lock a refresh token's outstanding row until the end of the transaction, so that exchanges of
    one token take turns. ``FOR NO KEY UPDATE``, like the accounts: blacklisting it (a foreign key to
    this row) takes ``KEY SHARE`` and must not wait on another exchange's lock."""
    return OutstandingToken.objects.select_for_update(no_key=True).filter(jti=jti, user=user).first()


def lock_user(user_id) -> None:
    """Lock a user's row for a decision about everything the user owns (e.g. how many accounts).

    ``FOR NO KEY UPDATE``, like the account locks: inserting a row that refers to the user takes
    only a key-share lock, so it is not blocked, while a second decision waits for the first.
    """
    queries.lock_user(user_id)
