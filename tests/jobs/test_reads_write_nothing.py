"""v1.3: GET requests write nothing (the job worker's schedule does the rollups and the purges). The only
write a request makes is its throttle counter (an UNLOGGED table, or Redis): rate-limit state, not data."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import roles
from tests.conftest import auth_client
from tests.factories import AccountFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE")


def writes(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].lstrip().upper().startswith(WRITES) and "nexus_ratelimitwindow" not in q["sql"]]


@pytest.mark.parametrize("url", ["/business/overview/", "/business/daily/?from=2026-01-01&to=2026-12-31",
                                 "/business/weekly/", "/business/monthly/"])
def test_business_reads_write_nothing(url):
    owner = UserFactory()
    AccountFactory(owner=owner, funded=Decimal("10"))
    staff = auth_client(StaffFactory(roles=[roles.SUPERVISOR]))
    assert writes(staff, url) == []


def test_statement_and_account_reads_write_nothing():
    owner = UserFactory()
    account = AccountFactory(owner=owner, funded=Decimal("10"))
    client = auth_client(owner)
    for url in ("/accounts/", f"/accounts/{account.pk}/", f"/accounts/{account.pk}/transactions/",
                f"/accounts/{account.pk}/transactions/?format=csv", "/notifications/", "/transfers/external/"):
        assert writes(client, url) == [], url
