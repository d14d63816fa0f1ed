"""Business figures are exact: equal to a recomputation straight from the raw tables."""

import datetime as dt
import random
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from api import money
from api.models import Transaction, User
from api.services.transfers import transfer_external
from business import services
from business.models import MetricEvent
from nexus import refcache
from tests.conftest import off_site_references
from tests.factories import PASSWORD, AccountFactory, BillerFactory, StaffFactory, UserFactory, grant

pytestmark = pytest.mark.django_db(transaction=True)
RATES = {"USD": Decimal("1.41"), "EUR": Decimal("1.31")}
NOON = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)  # 12:00 in Amman


def jod(amount, currency, credited=None, credited_currency=None):
    if currency == "JOD":
        return amount
    if credited_currency == "JOD":
        return credited
    return money.to_base(amount, currency, RATES)


def recompute(day: dt.date, refused: int, active: set) -> dict:
    """An independent, plain-Python recomputation from Transaction and User rows."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    end = start + dt.timedelta(days=1)
    txns = list(Transaction.objects.filter(created_at__gte=start, created_at__lt=end).select_related("reverses"))
    transfers = [t for t in txns if t.kind in ("internal", "external")]
    volume = sum((jod(t.amount, t.currency, t.credited_amount, t.credited_currency) for t in transfers), Decimal(0))
    fees = sum((jod(t.fee_amount, t.currency) for t in transfers), Decimal(0))
    refunded = sum((jod(t.reverses.fee_amount, t.reverses.currency) for t in txns if t.kind == "reversal"),
                   Decimal(0))
    bills = [t for t in txns if t.kind == "bill"]
    return {
        "new_users": User.objects.filter(is_staff=False, date_joined__gte=start, date_joined__lt=end).count(),
        "active_users": len(active),
        "total_transactions_success": len(transfers),
        "total_transactions_failed": refused,
        "total_transferred_amount": money.fmt(volume, "JOD"),
        "avg_transaction_value": money.fmt(volume / len(transfers), "JOD"),
        "fee_revenue": money.fmt(fees, "JOD"),
        "net_revenue": money.fmt(fees - refunded, "JOD"),
        "bill_payments_count": len(bills),
        "bill_payments_amount": money.fmt(sum((jod(t.amount, t.currency, t.credited_amount, t.credited_currency)
                                               for t in bills), Decimal(0)), "JOD"),
        "reversals_count": sum(1 for t in txns if t.kind == "reversal"),
    }


@pytest.mark.usefixtures("no_step_up")  # large amounts; step-up is tested apart
def test_randomized_workload_figures_equal_recomputation(api_client, client_for):
    rng = random.Random(20261125)
    with time_machine.travel(NOON, tick=True):
        staff = StaffFactory()
        staff_client = client_for(staff)
        users = []
        for index in range(4):
            email = f"customer{index}@example.com"
            assert api_client.post("/auth/register/", {"email": email, "password": PASSWORD}, format="json"
                                   ).status_code == 201
            users.append(User.objects.get(email=email))
        active = set()
        for user in users[:3]:
            assert api_client.post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD},
                                   format="json").status_code == 200
            active.add(user.pk)
        api_client.post("/auth/jwt/create/", {"email": users[3].email, "password": "wrong-password-1"}, format="json")
        accounts = []
        for user in users:
            for type_, amount in (("Savings", "800.000"), ("USD", "900.00"), ("EUR", "700.00")):
                account = AccountFactory(owner=user, type=type_)
                assert staff_client.post(f"/accounts/{account.pk}/deposit/", {"amount": amount},
                                         format="json").status_code == 201
                accounts.append(account)
        refused = 0
        made = []
        for step in range(40):
            sender, receiver = rng.sample(accounts, 2)
            places = 3 if sender.currency == "JOD" else 2
            amount = str(Decimal(rng.randint(1, 40000)).scaleb(-places))
            if rng.random() < 0.15:
                amount = "5000" if sender.currency == "JOD" else "5000.00"  # more than any balance: refused
            kind = "internal" if sender.owner_id == receiver.owner_id else "external"
            client = client_for(sender.owner)
            headers = {"HTTP_IDEMPOTENCY_KEY": f"k{step}"}
            body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount}
            response = client.post(f"/transfers/{kind}/", body, format="json", **headers)
            if response.status_code == 422:
                refused += 1
                continue
            assert response.status_code == 201, response.json()
            made.append(response.json()["id"])
            if rng.random() < 0.3:
                replay = client.post(f"/transfers/{kind}/", body, format="json", **headers)
                assert replay["Idempotent-Replayed"] == "true"
        for txn_id in rng.sample(made, 3):
            assert staff_client.post(f"/transfers/{txn_id}/reverse/", {"reason": "test"},
                                     format="json").status_code in (201, 422)
        biller = BillerFactory(currency="JOD")
        for account in rng.sample(accounts, 4):
            amount = "3.250"
            response = client_for(account.owner).post("/bill/", {"account": account.pk, "biller": biller.pk,
                                                                  "amount": amount, "reference": "R"}, format="json")
            assert response.status_code == 201
        today = services.today()
        daily = staff_client.get("/business/daily/", {"from": today.isoformat(), "to": today.isoformat()}).json()
        overview = staff_client.get("/business/overview/").json()

    expected = recompute(today, refused, active)
    assert refused > 0
    day = daily["results"][0]
    for field, value in expected.items():
        assert day[field] == value, field
        assert overview["today"][field] == value, field
    assert overview["last_30_days"]["total_transactions_success"] == expected["total_transactions_success"]
    assert set(day["per_currency"]) <= {"JOD", "USD", "EUR"}
    assert sum(c["count"] for c in day["per_currency"].values()) == expected["total_transactions_success"]


def test_rolled_back_transfers_and_replays_are_not_counted(client_for):
    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        transfer_external(user=user, sender_number=sender.pk, receiver_number=receiver.pk, amount=Decimal("1"))
        raise RuntimeError("rolled back after the posting")
    assert not MetricEvent.objects.filter(kind="transfer").exists()
    client = client_for(user)
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "2.000"}
    statuses = [client.post("/transfers/external/", body, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code
                for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert MetricEvent.objects.filter(kind="transfer").count() == 1


def test_recording_is_one_insert_per_batch_and_never_an_update():
    user = UserFactory()
    jod_account = AccountFactory(owner=user, funded=Decimal("100.000"))
    usd_account = AccountFactory(owner=user, type="USD", funded=Decimal("100.00"))
    txns = [transfer_external(user=user, sender_number=acc.pk, receiver_number=AccountFactory(type="EUR").pk,
                              amount=Decimal("1")) for acc in (jod_account, usd_account, jod_account)]
    MetricEvent.objects.all().delete()
    with refcache.pinned(), CaptureQueriesContext(connection) as ctx:  # as the job worker's batch runs
        services.record_transactions(txns)
    sql = [q["sql"].upper() for q in ctx.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert not any(s.startswith("UPDATE") for s in sql)
    assert sum(s.startswith("INSERT") for s in sql) == 1  # the whole batch
    assert len(sql) <= 2  # USD->EUR reads the rate history once per process (cached)
    assert MetricEvent.objects.count() == 3
    services.record_transactions(txns)  # delivered again (rebuild_metrics ran meanwhile): never doubled
    assert MetricEvent.objects.count() == 3


@pytest.mark.parametrize(("utc", "day", "week_start", "month"), [
    (dt.datetime(2026, 2, 28, 20, 59, tzinfo=dt.UTC), "2026-02-28", "2026-02-23", "2026-02-01"),  # 23:59 Amman
    (dt.datetime(2026, 2, 28, 21, 1, tzinfo=dt.UTC), "2026-03-01", "2026-02-23", "2026-03-01"),   # 00:01 Amman
    (dt.datetime(2026, 3, 1, 21, 1, tzinfo=dt.UTC), "2026-03-02", "2026-03-02", "2026-03-01"),    # Monday 00:01
])
def test_days_weeks_and_months_are_amman_local(client_for, utc, day, week_start, month):
    staff = StaffFactory()
    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("100.000"))
    receiver = AccountFactory()
    with time_machine.travel(utc, tick=False):
        transfer_external(user=user, sender_number=sender.pk, receiver_number=receiver.pk, amount=Decimal("1"))
    query = {"from": "2026-02-20", "to": "2026-03-10"}
    with time_machine.travel(dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC), tick=False):
        staff_client = client_for(staff)  # a token minted in the travelled time
        response = staff_client.get("/business/daily/", query)
        assert response.status_code == 200, response.json()
        daily = response.json()["results"]
        weekly = staff_client.get("/business/weekly/", query).json()["results"]
        monthly = staff_client.get("/business/monthly/", query).json()["results"]
    assert [d["period_start"] for d in daily if d["total_transactions_success"]] == [day]
    assert [w["period_start"] for w in weekly if w["total_transactions_success"]] == [week_start]
    assert [m["period_start"][:7] for m in monthly if m["total_transactions_success"]] == [month[:7]]
    assert weekly[0]["period_start"] == "2026-02-20" and weekly[1]["period_start"] == "2026-02-23"
    assert [m["period_start"] for m in monthly] == ["2026-02-20", "2026-03-01"]


def test_bad_ranges_are_400(client_for):
    staff_client = client_for(StaffFactory())
    for query in ({"from": "2026-13-01"}, {"from": "2026-03-02", "to": "2026-03-01"},
                  {"from": "2015-01-01", "to": "2026-01-01"}, {"to": "yesterday"}):
        response = staff_client.get("/business/daily/", query)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01", "20260101",
                                   "2026-01-01T00:00:00Z"])
@pytest.mark.parametrize("url", ["/business/daily/", "/business/weekly/", "/business/monthly/"])
def test_series_dates_take_the_shared_bounds(client_for, url, value):
    staff_client = client_for(StaffFactory())
    for name in ("from", "to"):
        response = staff_client.get(url, {name: value})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error"), (name, value)
        assert name in response.json()["error"]["details"]


def test_a_default_range_stops_at_the_first_bound(client_for):
    staff_client = client_for(StaffFactory())
    results = staff_client.get("/business/daily/", {"to": "2000-01-05"}).json()["results"]
    assert [day["period_start"] for day in results][0] == "2000-01-01"


def test_rebuild_metrics_takes_the_same_dates():
    for value in ("9999-12-31", "2026-02-30", "20260101"):
        with pytest.raises(CommandError):
            call_command("rebuild_metrics", "--from", value, "--to", "2026-01-01", verbosity=0)


@pytest.mark.parametrize("url", ["/business/overview/", "/business/daily/", "/business/weekly/",
                                 "/business/monthly/"])
def test_business_endpoints_are_staff_only(url, api_client, client_for):
    assert api_client.get(url).status_code == 401
    forbidden = client_for(UserFactory()).get(url)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "permission_denied")
    assert client_for(StaffFactory()).get(url).status_code == 200


def test_dashboard_renders_with_its_data(client):
    staff = grant(StaffFactory(), "business.view_dailybusinessmetrics")
    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("500.000"))
    transfer_external(user=user, sender_number=sender.pk, receiver_number=AccountFactory(type="USD").pk,
                      amount=Decimal("123.456"))
    client.force_login(staff)
    page = client.get("/admin/business/dailybusinessmetrics/dashboard/").content.decode()
    assert page.count('role="img"') == 4
    assert "123.456" in page  # the day's volume in the table and the tiles
    assert "Daily transfer volume (JOD)" in page and "Transfers per currency" in page
    assert off_site_references(page) == []  # every asset is served by the app itself
    assert client.get("/admin/business/dailybusinessmetrics/").status_code == 200


def test_rebuild_metrics_recomputes_from_raw_tables():

    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("500.000"))
    for amount in ("10.000", "20.000"):
        transfer_external(user=user, sender_number=sender.pk, receiver_number=AccountFactory().pk,
                          amount=Decimal(amount))
    today = services.today()
    before = services.rollup(today)
    MetricEvent.objects.filter(kind="transfer").delete()  # lose the recorded facts
    call_command("rebuild_metrics", "--from", today.isoformat(), "--to", today.isoformat(), verbosity=0)
    call_command("rebuild_metrics", "--from", today.isoformat(), "--to", today.isoformat(), verbosity=0)
    after = services.rollup(today)
    assert (after.total_transactions_success, after.total_transferred_amount, after.fee_revenue) == (
        before.total_transactions_success, before.total_transferred_amount, before.fee_revenue) == (
        2, Decimal("30.000"), Decimal("0.300"))
