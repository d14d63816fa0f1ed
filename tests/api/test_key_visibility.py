"""v1.1 (finding 11): an idempotency key is shown only to the user who sent it."""

from decimal import Decimal

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_receiver_never_sees_the_senders_key(client_for, user, other_user, staff):
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory(owner=other_user)
    created = client_for(user).post("/transfers/external/", {
        "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "1.000",
    }, format="json", HTTP_IDEMPOTENCY_KEY="pay-rent-2026-03")
    assert created.status_code == 201
    assert created.json()["idempotency_key"] == "pay-rent-2026-03"
    txn_id = created.json()["id"]

    assert client_for(user).get(f"/transfers/{txn_id}/").json()["idempotency_key"] == "pay-rent-2026-03"
    as_receiver = client_for(other_user)
    assert as_receiver.get(f"/transfers/{txn_id}/").json()["idempotency_key"] is None
    listed = as_receiver.get("/transfers/external/").json()["results"]
    assert [row["idempotency_key"] for row in listed if row["id"] == txn_id] == [None]
    # Staff see every transfer, but the key is still the sender's alone.
    assert client_for(staff).get(f"/transfers/{txn_id}/").json()["idempotency_key"] is None


def test_a_deposit_key_is_the_tellers_not_the_customers(client_for, user, staff):
    account = AccountFactory(owner=user)
    created = client_for(staff).post(f"/accounts/{account.pk}/deposit/", {"amount": "5.000"}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="teller-slip-81")
    assert created.status_code == 201 and created.json()["idempotency_key"] == "teller-slip-81"
    assert client_for(user).get(f"/transfers/{created.json()['id']}/").json()["idempotency_key"] is None
    replay = client_for(staff).post(f"/accounts/{account.pk}/deposit/", {"amount": "5.000"}, format="json",
                                    HTTP_IDEMPOTENCY_KEY="teller-slip-81")
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["idempotency_key"] == "teller-slip-81"
