"""Standing orders (contract v1.3): the dates, the API, and each run exactly once.

The scheduler's clock is driven with time-machine: each "day" below travels to a bank-local moment, runs
the scheduler's slot of that moment (``nexus.jobs.run_due``) and lets the worker drain the queue there.
"""

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from api import exceptions
from api.bankday import latest_run_on_or_before, next_run_after, nth_run
from api.models import Account, AuditRecord, Notification, StandingOrder, StandingOrderRun, Transaction
from api.services import standing
from nexus import jobs
from nexus.models import Job
from tests.api.helpers import error_code, money_snapshot, post_json
from tests.conftest import auth_client
from tests.factories import AccountFactory, StaffFactory, UserFactory, enrol, grant, totp_code

AMMAN = ZoneInfo("Asia/Amman")
SCHEDULE = [entry for entry in django_settings.NEXUS_SCHEDULE if entry["name"] == "owe_standing_order_runs"]


def moment(day: dt.date, hour: int = 0, minute: int = 5) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMMAN)


def worker_on(day: dt.date, hour: int = 0, minute: int = 5) -> None:
    """The worker on ``day`` (bank time): the scheduler's slot, then every job owed."""
    with time_machine.travel(moment(day, hour, minute), tick=False), override_settings(NEXUS_SCHEDULE=SCHEDULE):
        jobs.run_due()
        jobs.drain_all()


def create(client, sender, receiver, amount="100.000", **extra):
    return post_json(client, "/standing-orders/", {
        "sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount, "interval": "monthly",
        "first_date": extra.pop("first_date", None), **extra})


def runs(order) -> list[tuple]:
    return list(StandingOrderRun.objects.filter(order_id=order).order_by("run_on")
                .values_list("run_on", "status", "error_code"))


# --- the dates ------------------------------------------------------------------------------------

DATES = settings(deadline=None, database=None)  # pure arithmetic, but never timed on a shared machine


@DATES
@given(first=st.dates(dt.date(2000, 1, 1), dt.date(2900, 12, 31)), n=st.integers(0, 600))
def test_a_monthly_date_is_the_first_dates_day_clamped_to_the_month(first, n):
    day = nth_run(first, "monthly", n)
    months = (day.year - first.year) * 12 + day.month - first.month
    assert months == n
    assert day.day == first.day or (day.day < first.day and (day + dt.timedelta(days=1)).day == 1)


@DATES
@given(first=st.dates(dt.date(2000, 1, 1), dt.date(2900, 12, 31)), interval=st.sampled_from(["weekly", "monthly"]),
       offset=st.integers(-40, 4000))
def test_latest_and_next_bracket_every_day_with_no_run_between(first, interval, offset):
    day = first + dt.timedelta(days=offset)
    latest, following = latest_run_on_or_before(first, interval, day), next_run_after(first, interval, day)
    assert following > day
    if day < first:
        assert latest is None and following == first
        return
    assert first <= latest <= day
    # No run date strictly between the two, and each is a run date.
    dates = [nth_run(first, interval, n) for n in range(0, 200 if interval == "monthly" else 700)]
    assert latest in dates and following in dates
    assert not [d for d in dates if latest < d < following]


def test_month_ends_clamp_and_come_back():
    assert [nth_run(dt.date(2027, 1, 31), "monthly", n) for n in range(5)] == [
        dt.date(2027, 1, 31), dt.date(2027, 2, 28), dt.date(2027, 3, 31), dt.date(2027, 4, 30), dt.date(2027, 5, 31)]
    assert nth_run(dt.date(2028, 1, 30), "monthly", 1) == dt.date(2028, 2, 29)  # a leap year
    assert nth_run(dt.date(2027, 12, 29), "monthly", 2) == dt.date(2028, 2, 29)


# --- the API --------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 1, 15)


@pytest.fixture
def alice():
    with time_machine.travel(moment(TODAY, 9), tick=False):
        user = UserFactory(first_name="Alice")
        user.jod = AccountFactory(owner=user, funded=Decimal("1000"))
        user.usd = AccountFactory(owner=user, type=Account.Type.USD)
        yield user


@pytest.fixture
def bob():
    user = UserFactory(first_name="Bob")
    user.jod = AccountFactory(owner=user)
    return user


def test_an_order_due_today_runs_at_once_as_an_external_transfer(alice, bob):
    client = auth_client(alice)
    response = create(client, alice.jod, bob.jod, "100.000", first_date=TODAY.isoformat(), description="Rent")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body | {"id": None, "created_at": None} == {
        "id": None, "sender_account": alice.jod.pk, "receiver_account": bob.jod.pk, "amount": "100.000",
        "currency": "JOD", "description": "Rent", "interval": "monthly", "first_date": "2027-01-15",
        "end_date": None, "next_run_on": "2027-02-15", "status": "active", "created_at": None}
    assert Job.objects.filter(topic=standing.DUE).count() == 1  # owed in the creating transaction
    jobs.drain_all()
    [(run_on, status, code)] = runs(body["id"])
    assert (run_on, status, code) == (TODAY, "succeeded", None)
    txn = StandingOrderRun.objects.get(order_id=body["id"]).transaction
    assert (txn.kind, txn.amount, txn.fee_amount, txn.description) == ("external", Decimal("100.000"),
                                                                      Decimal("1.000"), "Rent")
    assert txn.idempotency_key == standing.idempotency_key(body["id"], TODAY)
    assert Notification.objects.filter(user=alice, kind="transfer_out", data__transaction_id=str(txn.pk)).exists()
    assert Notification.objects.filter(user=bob, kind="transfer_in").exists()
    listed = client.get(f"/standing-orders/{body['id']}/runs/").json()["results"]
    assert listed == [{"run_on": "2027-01-15", "status": "succeeded", "transaction_id": str(txn.pk),
                       "error_code": None, "created_at": listed[0]["created_at"]}]


def test_to_ones_own_account_it_is_an_internal_transfer_with_fx(alice):
    create(auth_client(alice), alice.jod, alice.usd, "10.000", first_date=TODAY.isoformat())
    jobs.drain_all()
    txn = Transaction.objects.get(kind="internal")
    assert (txn.fee_amount, txn.credited_currency, txn.receiver_account_id) == (0, "USD", alice.usd.pk)


@pytest.mark.parametrize(("change", "field"), [
    ({"first_date": "2027-01-14"}, "first_date"),  # yesterday
    ({"first_date": "2028-01-16"}, "first_date"),  # more than a year ahead
    ({"first_date": "2027-02-01", "end_date": "2027-01-31"}, "end_date"),
    ({"interval": "daily"}, "interval"),
    ({"amount": "10.0001"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"first_date": "2027-02-30"}, "first_date"),
])
def test_bad_input_is_a_400_and_creates_nothing(alice, bob, change, field):
    body = {"first_date": "2027-02-01", **change}
    response = create(auth_client(alice), alice.jod, bob.jod, **body)
    assert response.status_code == 400 and field in response.json()["error"]["details"], response.json()
    assert not StandingOrder.objects.exists() and not Job.objects.filter(topic=standing.DUE).exists()


def test_refusals_at_creation(alice, bob):
    stranger = Account.objects.create(owner=bob, type=Account.Type.SAVINGS, currency="JOD", is_active=False)
    client, before = auth_client(alice), money_snapshot()
    first = {"first_date": TODAY.isoformat()}
    assert error_code(create(client, alice.jod, alice.jod, **first)) == "same_account"
    assert create(client, bob.jod, alice.jod, **first).status_code == 404  # not the caller's sender
    assert error_code(create(client, alice.jod, stranger, **first)) == "receiver_not_found"
    assert not StandingOrder.objects.exists() and money_snapshot() == before


def test_step_up_at_creation_and_never_for_its_runs(alice, bob):
    with time_machine.travel(moment(TODAY, 9), tick=False):
        secret, _ = enrol(alice)
        client = auth_client(alice)
        assert error_code(create(client, alice.jod, bob.jod, "600.000", first_date=TODAY.isoformat())) == "otp_required"
        assert not StandingOrder.objects.exists()
    with time_machine.travel(moment(TODAY, 9, 6), tick=False):
        response = create(auth_client(alice), alice.jod, bob.jod, "600.000", first_date=TODAY.isoformat(),
                          otp=totp_code(secret))
        assert response.status_code == 201, response.json()
        jobs.drain_all()
    assert runs(response.json()["id"]) == [(TODAY, "succeeded", None)]
    worker_on(dt.date(2027, 2, 15))  # the next month's run: no code, and nothing asks for one
    assert runs(response.json()["id"])[-1] == (dt.date(2027, 2, 15), "refused", "insufficient_funds")


@override_settings(STEP_UP_DAILY_TOTAL="2000")
def test_orders_made_without_a_code_count_towards_the_days_total_with_payments(alice, bob):
    """Ten small orders are not a way around step-up, and payments after them see them (v1.3)."""
    with time_machine.travel(moment(TODAY, 9), tick=False):
        client = auth_client(alice)
        for _ in range(3):
            assert create(client, alice.jod, bob.jod, "499.000", first_date="2027-03-01").status_code == 201
        assert post_json(client, "/transfers/external/", {"sender_account": alice.jod.pk, "receiver_account": bob.jod.pk,
                                                          "amount": "499.000"}).status_code == 201
        refused = create(client, alice.jod, bob.jod, "10.000", first_date="2027-03-01")
        assert error_code(refused) == "otp_required" and refused.json()["error"]["details"]["reason"] == "daily_total"
        transfer = post_json(client, "/transfers/external/", {"sender_account": alice.jod.pk,
                                                              "receiver_account": bob.jod.pk, "amount": "10.000"})
        assert error_code(transfer) == "otp_required"
    with time_machine.travel(moment(TODAY + dt.timedelta(days=1), 9, 6), tick=False):  # 24 hours later
        response = create(auth_client(alice), alice.jod, bob.jod, "10.000", first_date="2027-03-01")
        assert response.status_code == 201, response.json()


@override_settings(MAX_STANDING_ORDERS_PER_USER=2)
def test_a_customer_has_a_bounded_number_of_active_orders(alice, bob):
    client = auth_client(alice)
    first, _ = (create(client, alice.jod, bob.jod, first_date="2027-02-01").json() for _ in range(2))
    refused = create(client, alice.jod, bob.jod, first_date="2027-02-01")
    assert error_code(refused) == "limit_reached" and refused.json()["error"]["details"] == {
        "resource": "standing_orders", "limit": 2}
    assert client.delete(f"/standing-orders/{first['id']}/").status_code == 204  # cancelled ones do not count
    assert create(client, alice.jod, bob.jod, first_date="2027-02-01").status_code == 201


def test_only_ones_own_orders_and_staff_read_all(alice, bob):
    order = create(auth_client(alice), alice.jod, bob.jod, first_date="2027-02-01").json()
    other = auth_client(bob)
    assert other.get(f"/standing-orders/{order['id']}/").status_code == 404
    assert other.get(f"/standing-orders/{order['id']}/runs/").status_code == 404
    assert other.delete(f"/standing-orders/{order['id']}/").status_code == 404
    assert other.get("/standing-orders/").json()["results"] == []
    assert [o["id"] for o in auth_client(alice).get("/standing-orders/").json()["results"]] == [order["id"]]
    staff = auth_client(grant(StaffFactory(roles=[]), "api.view_standingorder"))
    assert staff.get(f"/standing-orders/{order['id']}/").json()["id"] == order["id"]
    assert [o["id"] for o in staff.get("/standing-orders/").json()["results"]] == [order["id"]]
    assert staff.delete(f"/standing-orders/{order['id']}/").status_code in (403, 404)  # read-only, never for them
    assert StandingOrder.objects.get().status == "active"


# --- the schedule ---------------------------------------------------------------------------------

def _order(owner, receiver, first: dt.date, interval="monthly", amount="10.000", **extra) -> StandingOrder:
    with time_machine.travel(moment(TODAY, 9), tick=False):
        return standing.create_order(user=owner, sender_number=owner.jod.pk, receiver_number=receiver.pk,
                                     amount=Decimal(amount), interval=interval, first_date=first, **extra)


def test_the_clock_across_month_ends_and_a_leap_day(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 31))
    for day in (dt.date(2027, 1, 30), dt.date(2027, 1, 31), dt.date(2027, 2, 1), dt.date(2027, 2, 27),
                dt.date(2027, 2, 28), dt.date(2027, 3, 1), dt.date(2027, 3, 30), dt.date(2027, 3, 31)):
        worker_on(day)
    assert [run[0] for run in runs(order.pk)] == [dt.date(2027, 1, 31), dt.date(2027, 2, 28), dt.date(2027, 3, 31)]
    assert Transaction.objects.filter(kind="external").count() == 3
    order.refresh_from_db()
    assert order.next_run_on == dt.date(2027, 4, 30)


def test_a_leap_day(alice, bob):
    weekly = _order(alice, bob.jod, dt.date(2027, 2, 22), interval="weekly")
    StandingOrder.objects.filter(pk=weekly.pk).update(first_date=dt.date(2028, 2, 22), next_run_on=dt.date(2028, 2, 22))
    monthly = _order(alice, bob.jod, dt.date(2027, 1, 31))
    StandingOrder.objects.filter(pk=monthly.pk).update(first_date=dt.date(2028, 1, 31), next_run_on=dt.date(2028, 2, 29))
    for day in (dt.date(2028, 2, 22), dt.date(2028, 2, 28), dt.date(2028, 2, 29), dt.date(2028, 3, 1)):
        worker_on(day)
    assert [run[0] for run in runs(weekly.pk)] == [dt.date(2028, 2, 22), dt.date(2028, 2, 29)]
    assert [run[0] for run in runs(monthly.pk)] == [dt.date(2028, 2, 29)]


def test_a_missed_day_runs_once_when_the_worker_comes_back(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20), interval="weekly")
    worker_on(dt.date(2027, 1, 19))
    # The worker is down on the 20th and the 27th; back on the 29th, in the afternoon.
    worker_on(dt.date(2027, 1, 29), 15)
    worker_on(dt.date(2027, 1, 29), 16)
    worker_on(dt.date(2027, 1, 30))
    assert runs(order.pk) == [(dt.date(2027, 1, 27), "succeeded", None)]
    assert Transaction.objects.filter(kind="external").count() == 1
    order.refresh_from_db()
    assert order.next_run_on == dt.date(2027, 2, 3)
    worker_on(dt.date(2027, 2, 3))
    assert [run[0] for run in runs(order.pk)] == [dt.date(2027, 1, 27), dt.date(2027, 2, 3)]


def test_an_end_date_finishes_the_order(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20), interval="weekly", end_date=dt.date(2027, 1, 30))
    for day in (dt.date(2027, 1, 20), dt.date(2027, 1, 27), dt.date(2027, 2, 3)):
        worker_on(day)
    order.refresh_from_db()
    assert [run[0] for run in runs(order.pk)] == [dt.date(2027, 1, 20), dt.date(2027, 1, 27)]
    assert (order.status, order.next_run_on) == ("finished", None)


def test_a_refused_run_is_recorded_and_notified_and_the_order_stays_active(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20), amount="5000.000")
    before = money_snapshot()
    worker_on(dt.date(2027, 1, 20))
    assert runs(order.pk) == [(dt.date(2027, 1, 20), "refused", "insufficient_funds")]
    assert money_snapshot() == before
    note = Notification.objects.get(user=alice, kind="standing_order_refused")
    assert note.data == {"standing_order_id": str(order.pk), "run_on": "2027-01-20",
                         "error_code": "insufficient_funds", "account": alice.jod.pk}
    assert "was not paid" in note.body
    order.refresh_from_db()
    assert (order.status, order.next_run_on) == ("active", dt.date(2027, 2, 20))
    Account.objects.filter(pk=alice.jod.pk).update(daily_limit=Decimal("100"))
    StandingOrder.objects.filter(pk=order.pk).update(amount=Decimal("200"))
    worker_on(dt.date(2027, 2, 20))
    assert runs(order.pk)[-1] == (dt.date(2027, 2, 20), "refused", "daily_limit_exceeded")


def test_a_frozen_sender_pays_nothing(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    Account.objects.filter(pk=alice.jod.pk).update(is_active=False)
    before = money_snapshot()
    worker_on(dt.date(2027, 1, 20))
    assert money_snapshot() == before
    assert runs(order.pk) == [(dt.date(2027, 1, 20), "refused", "account_inactive")]


def test_a_cancelled_order_never_runs_again_even_when_its_run_was_already_owed(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    with time_machine.travel(moment(dt.date(2027, 1, 20)), tick=False), override_settings(NEXUS_SCHEDULE=SCHEDULE):
        jobs.run_due()  # owed, not yet carried out
        assert auth_client(alice).delete(f"/standing-orders/{order.pk}/").status_code == 204
        jobs.drain_all()
    worker_on(dt.date(2027, 2, 20))
    order.refresh_from_db()
    assert runs(order.pk) == [] and (order.status, order.next_run_on) == ("cancelled", None)
    assert auth_client(alice).delete(f"/standing-orders/{order.pk}/").status_code == 204  # again: nothing changes


def test_staff_cancel_with_a_reason_audited_and_never_their_own(alice, bob):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    teller = StaffFactory(roles=["Teller"])
    with pytest.raises(exceptions.InvalidInput):
        standing.staff_cancel(staff=teller, order_id=order.pk, reason="  ")
    standing.staff_cancel(staff=teller, order_id=order.pk, reason="Customer asked at the branch")
    record = AuditRecord.objects.get(action="standing_order_cancel")
    assert (record.actor, record.object_id) == (teller, str(order.pk))
    assert record.changes == {"status": ["active", "cancelled"], "reason": [None, "Customer asked at the branch"]}
    teller.jod = AccountFactory(owner=teller)
    own = _order(teller, bob.jod, dt.date(2027, 1, 20))
    with pytest.raises(exceptions.Forbidden):
        standing.staff_cancel(staff=teller, order_id=own.pk, reason="Mine")


def test_no_client_key_can_take_a_runs_key(alice, bob):
    """A run's key holds a character a client's key cannot (printable ASCII): a request sent with the run's
    key as text is a request of its own, and the run still pays."""
    from api.services.money_request import KEY_PATTERN

    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    key = standing.idempotency_key(order.pk, dt.date(2027, 1, 20))
    assert not KEY_PATTERN.match(key)
    with time_machine.travel(moment(dt.date(2027, 1, 20)), tick=False):
        ascii_key = key.replace("\u00b7", ":")
        body = {"sender_account": alice.jod.pk, "receiver_account": bob.jod.pk, "amount": "1.000"}
        sent = auth_client(alice).post("/transfers/external/", body, format="json", HTTP_IDEMPOTENCY_KEY=ascii_key)
        assert sent.status_code == 201
        assert auth_client(alice).post("/transfers/external/", body, format="json",
                                       HTTP_IDEMPOTENCY_KEY=key).status_code == 400
        jobs.enqueue(standing.DUE, key=order.pk, payload={"run_on": "2027-01-20"})
        jobs.drain_all()
    assert runs(order.pk) == [(dt.date(2027, 1, 20), "succeeded", None)]
    assert Transaction.objects.filter(kind="external").count() == 2


def test_a_run_owed_twice_still_pays_once(alice, bob):
    """Belt and braces: a duplicate job for the same date (which the scheduler never writes) pays nothing more."""
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    with time_machine.travel(moment(dt.date(2027, 1, 20)), tick=False):
        for _ in range(2):
            jobs.enqueue(standing.DUE, key=order.pk, payload={"run_on": "2027-01-20"})
        jobs.drain_all()
    assert runs(order.pk) == [(dt.date(2027, 1, 20), "succeeded", None)]
    assert Transaction.objects.filter(kind="external").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_the_same_runs_pay_each_once():
    """Real threads on PostgreSQL: two workers run the same slot and drain the same queue at once."""
    with time_machine.travel(moment(TODAY, 9), tick=False):
        owner = UserFactory()
        owner.jod = AccountFactory(owner=owner, funded=Decimal("10000"))
        receivers = [AccountFactory() for _ in range(3)]
        orders = [_order(owner, receiver, dt.date(2027, 1, 20), interval="weekly") for receiver in receivers * 4]
    failures = []

    def worker(barrier):
        try:
            barrier.wait()
            jobs.run_due()
            jobs.drain_all()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    for day in (dt.date(2027, 1, 20), dt.date(2027, 1, 27)):
        # The clock and the schedule are the process's: set once around both threads.
        with time_machine.travel(moment(day), tick=False), override_settings(NEXUS_SCHEDULE=SCHEDULE):
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=worker, args=(barrier,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
    assert not failures, failures
    for order in orders:
        assert [run[:2] for run in runs(order.pk)] == [(dt.date(2027, 1, 20), "succeeded"),
                                                       (dt.date(2027, 1, 27), "succeeded")]
    assert Transaction.objects.filter(kind="external").count() == 2 * len(orders)
    assert not Job.objects.exists()


# --- the back office ------------------------------------------------------------------------------

def test_the_back_office_shows_a_customers_orders_and_runs_and_a_teller_cancels_with_a_reason(alice, bob, client):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20), amount="5000.000")
    worker_on(dt.date(2027, 1, 20))  # refused: insufficient funds
    teller = StaffFactory(roles=["Teller"])
    client.force_login(teller)
    page = client.get(f"/admin/api/user/{alice.pk}/change/").content.decode()
    assert 'id="standing-orders-table"' in page and "2027-01-20: refused (insufficient_funds)" in page
    page = client.get(f"/admin/api/standingorder/{order.pk}/change/").content.decode()
    assert "insufficient_funds" in page and "Runs (newest first)" in page
    assert client.get("/admin/api/standingorder/?q=Alice").content.decode().count(str(order.pk)[:8]) >= 1
    url = "/admin/api/standingorder/"
    asked = client.post(url, {"action": "cancel_orders", "_selected_action": [str(order.pk)]})
    assert asked.status_code == 200 and "Cancel 1 standing order" in asked.content.decode()
    blank = client.post(url, {"action": "cancel_orders", "_selected_action": [str(order.pk)], "apply": "1",
                              "reason": " "})
    assert blank.status_code == 200 and StandingOrder.objects.get().status == "active"
    done = client.post(url, {"action": "cancel_orders", "_selected_action": [str(order.pk)], "apply": "1",
                             "reason": "Customer asked at the branch"}, follow=True)
    assert "Cancelled 1 standing order." in done.content.decode()
    order.refresh_from_db()
    assert (order.status, order.cancelled_by, order.cancel_reason) == ("cancelled", teller, "Customer asked at the branch")
    assert AuditRecord.objects.filter(action="standing_order_cancel", actor=teller).count() == 1


def test_an_auditor_reads_orders_and_cannot_cancel(alice, bob, client):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    client.force_login(StaffFactory(roles=["Auditor"]))
    page = client.get("/admin/api/standingorder/").content.decode()
    assert str(order.pk)[:8] in page and "cancel_orders" not in page
    client.post("/admin/api/standingorder/", {"action": "cancel_orders", "_selected_action": [str(order.pk)],
                                              "apply": "1", "reason": "no"})
    assert StandingOrder.objects.get().status == "active"


def test_an_orders_page_cancels_it_with_a_reason_and_says_no_run_yet(alice, bob, client):
    order = _order(alice, bob.jod, dt.date(2027, 1, 20))
    teller = StaffFactory(roles=["Teller"])
    client.force_login(teller)
    page = client.get(f"/admin/api/standingorder/{order.pk}/change/").content.decode()
    assert "No run yet: the first is due on 2027-01-20." in page
    cancel = f"/admin/api/standingorder/{order.pk}/cancel/"
    assert f'href="{cancel}"' in page and "Cancel this order…" in page
    asked = client.get(cancel).content.decode()
    assert "Cancel 1 standing order" in asked and f'action="{cancel}"' in asked  # the list action's page
    done = client.post(cancel, {"apply": "1", "reason": "Customer asked at the branch"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/admin/api/standingorder/{order.pk}/change/"
    html = done.content.decode()
    assert "Cancelled 1 standing order." in html and "Cancel this order…" not in html  # no longer active
    assert AuditRecord.objects.filter(action="standing_order_cancel", actor=teller).count() == 1
    # Never on one's own order, nor for a role that cannot cancel.
    own = StaffFactory(roles=["Teller"])
    own.jod = AccountFactory(owner=own, funded=Decimal("100"))
    mine = _order(own, bob.jod, dt.date(2027, 1, 20))
    client.force_login(own)
    assert "Cancel this order…" not in client.get(f"/admin/api/standingorder/{mine.pk}/change/").content.decode()
    client.force_login(StaffFactory(roles=["Auditor"]))
    assert "Cancel this order…" not in client.get(f"/admin/api/standingorder/{mine.pk}/change/").content.decode()
    assert client.get(f"/admin/api/standingorder/{mine.pk}/cancel/").status_code == 403
