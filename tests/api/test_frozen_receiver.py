"""v1.1 (finding 13): a frozen receiver of an external transfer looks exactly like an unknown account."""

from decimal import Decimal

import pytest

from api.models import Account
from tests.factories import AccountFactory

from .helpers import money_snapshot

pytestmark = pytest.mark.django_db

UNKNOWN = "100000000008"  # a valid check digit, no such account


def external(client, sender, receiver):
    return client.post("/transfers/external/", {"sender_account": sender, "receiver_account": receiver,
                                                "amount": "1.000"}, format="json")


def test_a_frozen_receiver_answers_like_an_unknown_number(client_for, user, other_user):
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    frozen = AccountFactory(owner=other_user, is_active=False)
    client = client_for(user)
    before = money_snapshot()
    unknown = external(client, sender.pk, UNKNOWN)
    hidden = external(client, sender.pk, frozen.pk)
    assert (unknown.status_code, hidden.status_code) == (422, 422)
    assert hidden.json() == unknown.json()
    assert hidden.json()["error"]["code"] == "receiver_not_found"
    assert money_snapshot() == before
    # The sender's own frozen account, as an external receiver, is hidden the same way.
    own_frozen = AccountFactory(owner=user, type=Account.Type.SALARY, is_active=False)
    assert external(client, sender.pk, own_frozen.pk).json() == unknown.json()


def test_a_frozen_sender_still_gets_account_inactive(client_for, user, other_user):
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory(owner=other_user)
    Account.objects.filter(pk=sender.pk).update(is_active=False)
    response = external(client_for(user), sender.pk, receiver.pk)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "account_inactive")


def test_unfrozen_it_receives_again(client_for, user, other_user):
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory(owner=other_user, is_active=False)
    assert external(client_for(user), sender.pk, receiver.pk).status_code == 422
    Account.objects.filter(pk=receiver.pk).update(is_active=True)
    assert external(client_for(user), sender.pk, receiver.pk).status_code == 201
