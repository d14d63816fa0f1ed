"""v1.1: transfers started by staff are screened like anyone's; deposits and reversals are not transfers."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from risk.models import Incident
from tests.factories import AccountFactory, StaffFactory, fund

pytestmark = pytest.mark.django_db(transaction=True)  # the rules run after a real commit

NIGHT = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)  # 00:30 in Amman: an unusual hour


def external(client, sender, receiver, amount="1.000"):
    return client.post("/transfers/external/", {"sender_account": sender.pk, "receiver_account": receiver.pk,
                                                "amount": amount}, format="json")


def test_a_staff_users_own_transfers_trip_velocity_and_unusual_hour(client_for):
    staff = StaffFactory()
    own = AccountFactory(owner=staff, funded=Decimal("1000.000"))
    receiver = AccountFactory()
    with time_machine.travel(NIGHT, tick=False) as clock:
        client = client_for(staff)  # a token minted at the travelled time
        for _ in range(10):
            assert external(client, own, receiver).status_code == 201
            clock.shift(dt.timedelta(seconds=20))
    codes = sorted(Incident.objects.filter(user=staff).values_list("code", flat=True))
    assert codes == ["unusual_hour", "velocity"]
    assert Incident.objects.get(code="velocity").details["count_15m"] == 10


def test_staff_deposits_and_reversals_are_not_screened(client_for):
    staff = StaffFactory()
    customer_account = AccountFactory(funded=Decimal("10.000"))
    with time_machine.travel(NIGHT, tick=False) as clock:
        client = client_for(staff)
        ids = []
        for _ in range(12):
            response = client.post(f"/accounts/{customer_account.pk}/deposit/", {"amount": "5000.000"}, format="json")
            assert response.status_code == 201
            ids.append(response.json()["id"])
            clock.shift(dt.timedelta(seconds=10))
        for transaction_id in ids[:10]:
            response = client.post(f"/transfers/{transaction_id}/reverse/", {"reason": "teller error"}, format="json")
            assert response.status_code == 201
    assert not Incident.objects.exists()


def test_a_customers_bill_and_transfer_are_still_screened_at_night(client_for, user):
    account = AccountFactory(owner=user)
    fund(account, Decimal("100.000"))
    with time_machine.travel(NIGHT, tick=False):
        assert external(client_for(user), account, AccountFactory()).status_code == 201
    assert list(Incident.objects.values_list("code", flat=True)) == ["unusual_hour"]
