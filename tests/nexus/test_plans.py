"""Every statement a transfer or a read runs is planned once per connection, not on every request.

psycopg prepares a statement a connection has run five times; PostgreSQL then plans it five times for the
values given and keeps a generic plan when that plan costs no more than theirs. A statement whose generic
plan looks dearer (an array parameter of unknown length, e.g. ``= ANY(%s::varchar[])``) is planned again on
every run, forever: the accounts' lock was, 10-15 % of PostgreSQL's CPU per transfer (bench/README.md).
The job worker's statements run once per batch of movements, not per request: not counted here.
"""

import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from api.models import Account, User
from tests.conftest import auth_client
from tests.factories import AccountFactory

RUNS = 12


def _shape(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"%s|\$\d+", "?", text)).strip()


@pytest.mark.django_db(transaction=True)
def test_the_money_path_and_the_reads_settle_on_generic_plans(user, settings):
    settings.NEXUS_JOBS_EAGER = False  # the worker's statements are not the request's
    sender = AccountFactory(owner=user, funded=Decimal("1000.000"))
    own = AccountFactory(owner=user, type="USD")
    other = AccountFactory()
    client = auth_client(user)
    # A bank's customers (1 000 with three accounts each, as the benchmark seeds them) and their statistics as
    # autovacuum keeps them: the planner's costs, and so the plan cache's choice, depend on both (on a table of
    # three accounts an array's plan is cheap enough; one owner of 3 000 makes every owner's page look costly).
    crowd = User.objects.bulk_create(User(email=f"crowd{n}@example.com", password="!") for n in range(1000))
    Account.objects.bulk_create(Account(owner=owner, type=Account.Type.SAVINGS, currency="JOD")
                                for owner in crowd for _ in range(3))
    connection.close()  # a session of its own: plans chosen by other tests' runs of a statement do not count
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE api_user, api_account, api_transaction, api_ledgerentry, api_idempotencyrecord")
    seen = set()

    def collect(execute, sql, params, many, context):
        seen.add(_shape(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(collect):
        for _ in range(RUNS):
            for path, receiver in (("/transfers/external/", other), ("/transfers/internal/", own)):
                body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "1.000"}
                key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
                assert client.post(path, body, format="json", **key).status_code == 201
            assert client.get("/accounts/").status_code == 200
            assert client.get(f"/accounts/{sender.pk}/transactions/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        plans = {_shape(text): (generic, custom) for text, generic, custom in cursor.fetchall()}
    ours = {text: counts for text, counts in plans.items() if text in seen}
    assert len(ours) >= 6, "the statements were not prepared: is server-side binding off?"
    # psycopg prepares a statement at its sixth run; PostgreSQL settles after five custom plans.
    replanned = [text[:300] for text, (generic, custom) in ours.items() if custom > 5 and generic == 0]
    assert not replanned, f"planned again on every run: {replanned}"
