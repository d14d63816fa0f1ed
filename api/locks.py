"""The one place that takes row locks on accounts."""

from .models import Account


def lock_accounts(numbers) -> dict[str, Account]:
    """Lock the given accounts in one statement, in primary-key order, and return them by number.

    ``FOR NO KEY UPDATE``: it is all a balance change needs, and unlike plain ``FOR UPDATE`` it
    does not conflict with the ``KEY SHARE`` locks that inserting a transaction or ledger row
    (foreign keys to these accounts) takes — plain ``FOR UPDATE`` deadlocks there even when all
    traffic goes one way. Sorting makes every transfer wait for the same rows in the same order,
    so A->B and B->A cannot deadlock either. Numbers that do not exist are simply absent.
    """
    wanted = sorted(set(numbers))
    locked = Account.objects.filter(pk__in=wanted).order_by("pk").select_for_update(no_key=True)
    return {account.pk: account for account in locked}
