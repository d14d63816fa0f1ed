"""Caps on accounts per customer and cards per account: a clear 422 past them, also under concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from api.models import Account, Card
from api.services.accounts import card_issue
from tests.conftest import auth_client
from tests.factories import AccountFactory, UserFactory


def post(client, url, body):
    return client.post(url, body, format="json")


@pytest.mark.django_db
def test_accounts_past_the_cap_are_422_limit_reached(settings, user_client, user):
    settings.MAX_ACCOUNTS_PER_USER = 3
    for type_ in ("Savings", "USD", "EUR"):
        assert post(user_client, "/accounts/", {"type": type_}).status_code == 201
    refused = post(user_client, "/accounts/", {"type": "Salary"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "limit_reached"
    assert refused.json()["error"]["details"] == {"resource": "accounts", "limit": 3}
    assert Account.objects.filter(owner=user).count() == 3
    settings.MAX_ACCOUNTS_PER_USER = 4  # the cap comes from settings (MAX_ACCOUNTS_PER_USER)
    assert post(user_client, "/accounts/", {"type": "Salary"}).status_code == 201


@pytest.mark.django_db
def test_cards_past_the_cap_are_422_limit_reached_frozen_ones_included(settings, user_client, user):
    settings.MAX_CARDS_PER_ACCOUNT = 2
    account = AccountFactory(owner=user)
    first = post(user_client, f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT"})
    assert user_client.patch(f"/cards/{first.json()['id']}/", {"is_active": False}, format="json").status_code == 200
    assert post(user_client, f"/accounts/{account.pk}/cards/", {"card_type": "CREDIT"}).status_code == 201
    refused = post(user_client, f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "limit_reached")
    assert refused.json()["error"]["details"] == {"resource": "cards", "limit": 2}
    # Per account: another account of the same customer has room.
    other = AccountFactory(owner=user, type="USD")
    assert post(user_client, f"/accounts/{other.pk}/cards/", {"card_type": "DEBIT"}).status_code == 201


def collide(count: int, work) -> list[int]:
    barrier = threading.Barrier(count)

    def run(_):
        try:
            barrier.wait(10)
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def client_of(user) -> APIClient:
    return auth_client(user)


@pytest.mark.django_db(transaction=True)
def test_concurrent_opens_cannot_exceed_the_account_cap(settings):
    settings.MAX_ACCOUNTS_PER_USER = 10
    user = UserFactory()
    for _ in range(8):
        AccountFactory(owner=user)
    statuses = collide(6, lambda: post(client_of(user), "/accounts/", {"type": "USD"}).status_code)
    assert sorted(statuses) == [201, 201, 422, 422, 422, 422]
    assert Account.objects.filter(owner=user).count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_cannot_exceed_the_card_cap(settings):
    settings.MAX_CARDS_PER_ACCOUNT = 5
    user = UserFactory()
    account = AccountFactory(owner=user)
    for _ in range(3):
        card_issue(account=account, card_type=Card.Type.DEBIT)
    statuses = collide(6, lambda: post(client_of(user), f"/accounts/{account.pk}/cards/",
                                       {"card_type": "CREDIT"}).status_code)
    assert sorted(statuses) == [201, 201, 422, 422, 422, 422]
    assert Card.objects.filter(account=account).count() == 5
