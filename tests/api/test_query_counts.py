"""Query budgets: the transfer path is bounded, lists are constant in the number of rows."""

from decimal import Decimal

import pytest

from tests.conftest import auth_client
from tests.factories import AccountFactory, fund

# The request's own statements, authentication included. Its reactions (notifications, the business fact,
# risk screening) are a job written by the posting statement itself and carried out by the worker (v1.3).
# A keyed one: the user row with the throttle's hit, the payer's and the accounts' lock, the posting with the
# key and its outcome (api.queries.OwedRecord), the body kept after the commit (BEGIN and COMMIT are not
# counted); a conversion may read the rates once more.
TRANSFER_BUDGET = 6


def authed(user):
    return auth_client(user)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("receiver_type", "key"), [("Savings", "k-1"), ("USD", "k-2"), ("Savings", None)])
def test_post_transfer_query_budget(user, django_assert_max_num_queries, receiver_type, key, settings):
    settings.NEXUS_JOBS_EAGER = False  # the worker's statements are not the request's
    sender = AccountFactory(owner=user, funded=Decimal("1000.000"))
    receiver = AccountFactory(type=receiver_type)
    client = authed(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "1.000"}
    client.post("/transfers/external/", body, format="json", **headers)  # warm per-process caches
    body["amount"] = "2.000"
    headers = {"HTTP_IDEMPOTENCY_KEY": key + "b"} if key else {}
    with django_assert_max_num_queries(TRANSFER_BUDGET):
        response = client.post("/transfers/external/", body, format="json", **headers)
    assert response.status_code == 201


def _count(django_assert_max_num_queries, client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm per-process caches (blacklist, house accounts)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_account_list_is_constant_in_the_number_of_accounts(user, django_assert_max_num_queries):
    client = authed(user)
    AccountFactory.create_batch(2, owner=user)
    small = _count(django_assert_max_num_queries, client, "/accounts/")
    AccountFactory.create_batch(30, owner=user)
    assert _count(django_assert_max_num_queries, client, "/accounts/") == small
    assert small <= 3  # throttle, user (with the reference version: nexus.refcache), the page


@pytest.mark.django_db
def test_statement_is_constant_in_the_number_of_lines(user, django_assert_max_num_queries):
    client = authed(user)
    account = AccountFactory(owner=user)
    fund(account, Decimal("1"))
    url = f"/accounts/{account.pk}/transactions/"
    small = _count(django_assert_max_num_queries, client, url)
    for _ in range(25):
        fund(account, Decimal("1"))
    assert _count(django_assert_max_num_queries, client, url) == small
    assert small <= 3  # throttle, user (and the reference version), ownership and page in one statement
    assert _count(django_assert_max_num_queries, client, url + "?format=csv") <= small


@pytest.mark.django_db
def test_transfer_lists_are_constant_in_the_number_of_rows(user, django_assert_max_num_queries):
    from api.services.transfers import transfer_external

    client = authed(user)
    sender = AccountFactory(owner=user, funded=Decimal("1000.000"))
    receiver = AccountFactory()
    transfer_external(user=user, sender_number=sender.pk, receiver_number=receiver.pk, amount=Decimal("1"))
    small = _count(django_assert_max_num_queries, client, "/transfers/external/")
    for _ in range(20):
        transfer_external(user=user, sender_number=sender.pk, receiver_number=receiver.pk, amount=Decimal("1"))
    assert _count(django_assert_max_num_queries, client, "/transfers/external/") == small
