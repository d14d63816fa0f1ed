"""Inputs inside the bounds that used to cost work without bound.

The business series take five years anywhere in 2000-2999. Every day of a daily range used to be
rolled up on read, one day at a time, and stored, the days that have not happened yet again on every
request: a staff member (an auditor, read-only) could make one GET run over 9,000 queries, minutes on
a busy server, past gunicorn's worker timeout. Days before the bank's first activity and after the
last trailing window are zeros, known without computing them; only days that happened are stored.
"""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api import roles
from business.models import DailyBusinessMetrics
from business.services import record_activity
from tests.factories import StaffFactory, UserFactory
from tests.world import bearer

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)  # 12:00 in Amman


def auditor() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(StaffFactory(roles=[roles.AUDITOR]))["Authorization"])
    return client


@pytest.mark.parametrize(("url", "stores"), [
    ("/business/daily/?from=2995-01-01&to=2999-12-31", 0),
    ("/business/daily/?from=2000-01-01&to=2004-12-31", 0),  # zero rows of days past, computed: reads write nothing
    ("/business/weekly/?from=2995-01-01&to=2999-12-31", 0),
    ("/business/monthly/?from=2000-01-01&to=2004-12-31", 0),
])
def test_a_far_off_five_year_range_costs_a_few_queries(url, stores):
    with time_machine.travel(NOW, tick=False):
        client = auditor()
        UserFactory()  # the bank has a history: a sign-up today
        stored = DailyBusinessMetrics.objects.count()
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            assert len(queries) < 20, len(queries)
            assert DailyBusinessMetrics.objects.count() == stored + stores  # v1.3: a GET stores nothing
    results = response.json()["results"]
    assert len(results) > 50 and all(row["new_users"] == 0 and row["deposits_amount"] == "0.000" for row in results)


def test_days_ahead_show_the_trailing_windows_and_are_not_stored():
    with time_machine.travel(NOW, tick=False):
        client = auditor()
        record_activity(user=UserFactory())
        rows = client.get("/business/daily/?from=2026-03-04&to=2026-04-10").json()["results"]
    by_day = {row["period_start"]: row for row in rows}
    # the customer; not the auditor (staff are not the bank's users)
    assert by_day["2026-03-04"]["active_users"] == 1 and by_day["2026-03-04"]["new_users"] == 1
    assert by_day["2026-03-10"]["active_users_7d"] == 1 and by_day["2026-03-10"]["active_users"] == 0
    assert by_day["2026-04-02"]["active_users_30d"] == 1  # the last day whose window reaches 03-04
    assert by_day["2026-04-03"]["active_users_30d"] == 0
    assert not DailyBusinessMetrics.objects.filter(date__gt=dt.date(2026, 3, 4)).exists()
