"""Contract v1.3: reference data applies at once. A change applies to every request that starts after the
change was answered, on every worker and node (nexus.refcache: a version moved by the change's own
transaction, read once per request). Before, each process kept FX rates and the blacklist for up to 5 s.

Real processes: two gunicorn workers with four threads each, both having read the data before the change;
the change made through the API; every request after its answer, spread over the workers, sees it.
"""

import json
from decimal import Decimal

import pytest

from api.models import FxRate
from tests.factories import StaffFactory, bearer
from tests.hardening.server import Server, end_server_sessions, request

pytestmark = pytest.mark.django_db(transaction=True)
REQUESTS = 24  # spread over both workers and their threads


def rates(port) -> dict:
    status, body, _ = request(port, "GET", "/fx/rates/")
    assert status == 200, body
    return json.loads(body)["rates"]


def test_a_published_rate_and_a_blacklist_entry_apply_to_the_very_next_requests(tmp_path):
    staff = StaffFactory(is_superuser=True)
    auth = {"Authorization": bearer(staff)}
    server = Server(tmp_path / "gunicorn.log")
    server.start()
    try:
        before = {rates(server.port)["USD"] for _ in range(REQUESTS)}  # every worker has the rates cached
        assert len(before) == 1
        published = str((Decimal(before.pop()) + Decimal("0.01")).quantize(Decimal("0.01")))
        FxRate.objects.create(currency="USD", rate=Decimal(published))  # a staff publish, committed
        assert {rates(server.port)["USD"] for _ in range(REQUESTS)} == {published}

        for _ in range(REQUESTS):  # every worker has read the blacklist (empty)
            assert request(server.port, "GET", "/fx/rates/", headers={"X-Forwarded-For": "198.51.100.77"})[0] == 200
        status, body, _ = request(server.port, "POST", "/risk/blacklist/", {"cidr": "198.51.100.77", "reason": "t"},
                                  headers=auth)
        assert status == 201, body
        refused = [request(server.port, "GET", "/fx/rates/", headers={"X-Forwarded-For": "198.51.100.77"})[0]
                   for _ in range(REQUESTS)]
        assert refused == [403] * REQUESTS
    finally:
        server.stop()
        end_server_sessions()


def test_an_authenticated_request_reads_the_version_with_its_user_row(django_assert_num_queries):
    from risk.models import BlockedIP
    from tests.conftest import auth_client
    from tests.factories import UserFactory

    client = auth_client(UserFactory())
    client.get("/accounts/")  # the blacklist cached
    with django_assert_num_queries(2) as context:  # the user row (with the version and the throttle hit), the page
        assert client.get("/accounts/").status_code == 200
    assert not any(query["sql"].lstrip().startswith('SELECT "version"') for query in context.captured_queries)
    BlockedIP.objects.create(cidr="198.51.100.78", reason="t")  # the version moves
    refused = client.get("/accounts/", REMOTE_ADDR="198.51.100.78")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ip_blocked"
