"""The business dashboard and the metrics list in the admin."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from api.services.transfers import transfer_external
from business import charts, services
from business.models import DailyBusinessMetrics
from tests.factories import AccountFactory, StaffFactory, UserFactory, grant

# Metric events are recorded after commit: only a committing test sees them.
pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = "/admin/business/dailybusinessmetrics/dashboard/"


@pytest.fixture
def analyst(client):
    client.force_login(grant(StaffFactory(roles=[]), "business.view_dailybusinessmetrics"))
    return client


def transfer(amount="123.456"):
    user = UserFactory()
    sender = AccountFactory(owner=user, funded=Decimal("500.000"))
    transfer_external(user=user, sender_number=sender.pk, receiver_number=AccountFactory().pk, amount=Decimal(amount))


def test_default_view_fills_the_range_boxes_and_draws_axes(analyst):
    transfer()
    html = analyst.get(DASHBOARD).content.decode()
    today = services.today()
    assert f'name="start" value="{today - dt.timedelta(days=29):%Y-%m-%d}"' in html
    assert f'name="end" value="{today:%Y-%m-%d}"' in html
    assert html.count('role="img"') == 4
    assert html.count('class="grid"') >= 4 * 3  # gridlines on every chart
    assert html.count('class="x-label"') >= 4 * 2 and html.count('class="y-label"') >= 4 * 3
    assert "Day (Asia/Amman)" in html and ">JOD</text>" in html and ">users</text>" in html
    assert "123.456&nbsp;JOD" in html


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "2026-02-30", "end": "2026-03-10"}, "From: Enter a valid date."),
    ({"start": "yesterday", "end": "2026-03-10"}, "From: Enter a valid date."),
    ({"start": "2026-01-01"}, "To: This field is required."),
    ({"start": "2024-01-01", "end": "2025-12-31"}, "The range has 731 days; the dashboard shows at most 366."),
    ({"start": "2026-03-10", "end": "2026-03-01"}, "“From” is after “To”."),
    ({"start": "1999-12-31", "end": "2000-01-01"}, "From: Choose a day between the years 2000 and 2999."),
    ({"start": "9999-12-30", "end": "9999-12-31"}, "Choose a day between the years 2000 and 2999."),
])
def test_a_bad_range_is_an_error_on_the_page_never_cut_or_ignored(analyst, query, message):
    response = analyst.get(DASHBOARD, query)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and 'id="dashboard-errors"' in html
    assert 'role="img"' not in html  # no figures for a range the user did not ask for


def test_a_full_year_is_accepted(analyst):
    html = analyst.get(DASHBOARD, {"start": "2024-01-01", "end": "2024-12-31"}).content.decode()
    assert "dashboard-errors" not in html and html.count('role="img"') == 4
    assert len(re.findall(r"<rect ", html)) == 3 * 366


def test_the_list_writes_nothing_and_shows_closed_days_the_worker_rolled_up(analyst):
    """v1.3: reads write nothing. The list is the stored rows of closed days, which the job worker's
    schedule rolls up (business.housekeeping); today's figures are on the dashboard, computed."""
    import datetime as dt

    import time_machine

    from business.housekeeping import rollup_closed_days

    transfer("10.000")
    analyst.get("/admin/business/dailybusinessmetrics/")
    assert not DailyBusinessMetrics.objects.exists()
    assert "10.000&nbsp;JOD" in analyst.get(DASHBOARD).content.decode()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1)):
        rollup_closed_days(slot=None)
        html = analyst.get("/admin/business/dailybusinessmetrics/").content.decode()
    assert "10.000&nbsp;JOD" in html
    assert DailyBusinessMetrics.objects.get(total_transactions_success=1)


def test_the_deposits_tile_says_it_counts_reversed_deposits_as_the_transfer_tiles_do(analyst):
    from api.services.transfers import deposit, reverse_transaction

    teller = StaffFactory(roles=[])
    made = deposit(staff=teller, account_number=AccountFactory().pk, amount=Decimal("40.000"))
    reverse_transaction(staff=teller, transaction_id=made.pk, reason="Counted twice")
    html = analyst.get(DASHBOARD).content.decode()
    tiles = dict(re.findall(r'<div class="label">([^<]+)</div><div class="value">(.*?)</div></div>', html))
    assert "40.000&nbsp;JOD" in tiles["Cash deposits"] and tiles["Reversals"] == "1"
    assert "cash deposits count every posting of the range,\nreversed later or not" in html


def test_dashboard_and_list_need_the_view_permission(client):
    client.force_login(StaffFactory(roles=[]))
    assert client.get(DASHBOARD).status_code == 403
    assert client.get("/admin/business/dailybusinessmetrics/").status_code == 403
    client.force_login(grant(StaffFactory(roles=[]), "business.view_dailybusinessmetrics"))
    home = client.get("/admin/").content.decode()
    assert f'href="{DASHBOARD}"' in home


def test_axis_steps_are_round_numbers():
    assert charts.nice_step(Decimal("123.456")) == Decimal("50")
    assert charts.nice_step(Decimal("9")) == Decimal("2.5")
    assert charts.nice_step(Decimal("9"), whole=True) == Decimal("3")
    assert charts.nice_step(Decimal("0.4")) == Decimal("0.1")
    top, ticks = charts.y_axis([Decimal("0"), Decimal("123.456")], whole=False)
    assert top == Decimal("150") and [tick["label"] for tick in ticks] == ["0", "50", "100", "150"]
    top, ticks = charts.y_axis([], whole=True)
    assert top == Decimal("1") and [tick["label"] for tick in ticks] == ["0", "1"]
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(30)]
    labels = [tick["label"] for tick in charts.x_ticks(days, [Decimal(n) for n in range(30)])]
    assert len(labels) <= charts.MAX_X_TICKS and labels[-1] == "30 Jan"
