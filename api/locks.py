"""The one place that takes row locks on accounts."""

from django.db import connection

from .models import Account

_FIELDS = [field.attname for field in Account._meta.concrete_fields]
# The statement the ORM would build for
# Account.objects.filter(pk__in=numbers).order_by("pk").select_for_update(no_key=True),
# written once: compiling that queryset on every transfer cost more CPU than running it.
_COLUMNS = ", ".join(f'"{field.column}"' for field in Account._meta.concrete_fields)
_LOCK_SQL = f'SELECT {_COLUMNS} FROM "api_account" WHERE "account_number" = ANY(%s) ORDER BY "account_number" FOR NO KEY UPDATE'  # noqa: S608 - column names come from the model; values are parameters


def lock_accounts(numbers) -> dict[str, Account]:
    """Lock the given accounts in one statement, in primary-key order, and return them by number.

    ``FOR NO KEY UPDATE``: it is all a balance change needs, and unlike plain ``FOR UPDATE`` it
    does not conflict with the ``KEY SHARE`` locks that inserting a transaction or ledger row
    (foreign keys to these accounts) takes — plain ``FOR UPDATE`` deadlocks there even when all
    traffic goes one way. Sorting makes every transfer wait for the same rows in the same order,
    so A->B and B->A cannot deadlock either. Numbers that do not exist are simply absent.
    """
    wanted = sorted(set(numbers))
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [wanted])
        rows = cursor.fetchall()
    locked = (Account.from_db(connection.alias, _FIELDS, row) for row in rows)
    return {account.pk: account for account in locked}
