"""Lockouts, throttles, client IP, blacklist and the staff API."""

import datetime as dt
import threading
import time
import uuid

import pytest
import time_machine
from django.db import connections
from django.test import override_settings
from rest_framework.settings import api_settings

from nexus import refcache
from nexus.throttles import hit
from risk.models import BlockedIP, Incident, LoginEvent
from tests.factories import PASSWORD, UserFactory
from tests.logins import attempt_login

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
UNTRUSTED = "203.0.113.9"


def rates(**overrides):
    return override_settings(REST_FRAMEWORK={**_rest(), "DEFAULT_THROTTLE_RATES": {
        **_rest()["DEFAULT_THROTTLE_RATES"], **overrides}})


def _rest():
    from django.conf import settings

    return settings.REST_FRAMEWORK


@pytest.mark.django_db
class TestLockout:
    def test_locked_out_even_with_the_right_password_then_free_after_cool_off(self, api_client):
        user = UserFactory()
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(4):
                assert attempt_login(api_client, user.email).status_code == 401
            fifth = attempt_login(api_client, user.email)  # the fifth failure locks the (email, IP) pair
            assert (fifth.status_code, fifth.json()["error"]["code"]) == (429, "locked_out")
            locked = attempt_login(api_client, user.email, PASSWORD)
            assert locked.status_code == 429
            assert locked.json()["error"]["code"] == "locked_out"
            assert int(locked["Retry-After"]) > 0
            clock.shift(dt.timedelta(minutes=31))
            assert attempt_login(api_client, user.email, PASSWORD).status_code == 200

    def test_a_successful_login_resets_the_failure_count(self, api_client):
        user = UserFactory()
        with time_machine.travel(START, tick=False):
            for _ in range(4):
                attempt_login(api_client, user.email)
            assert attempt_login(api_client, user.email, PASSWORD).status_code == 200
            for _ in range(4):
                attempt_login(api_client, user.email)
            assert attempt_login(api_client, user.email, PASSWORD).status_code == 200

    def test_lockout_is_per_username_and_ip(self, api_client):
        user = UserFactory()
        with time_machine.travel(START, tick=False):
            for _ in range(5):
                attempt_login(api_client, user.email)
            assert attempt_login(api_client, user.email, PASSWORD).status_code == 429
            assert attempt_login(api_client, user.email, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 200


@pytest.mark.django_db
class TestClientIp:
    def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(self, api_client):
        attempt_login(api_client, "x@example.com", REMOTE_ADDR=UNTRUSTED, HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert LoginEvent.objects.get().ip == UNTRUSTED

    def test_forwarded_for_from_a_trusted_proxy_is_used(self, api_client):
        attempt_login(api_client, "x@example.com", HTTP_X_FORWARDED_FOR="198.51.100.20, 127.0.0.1")
        assert LoginEvent.objects.get().ip == "198.51.100.20"

    def test_spoofing_does_not_dodge_the_login_throttle(self, api_client):
        with rates(login="5/min"), override_settings(AXES_ENABLED=False), time_machine.travel(START, tick=False):
            codes = [attempt_login(api_client, "x@example.com", REMOTE_ADDR=UNTRUSTED,
                           HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(7)]
        assert codes[:5] == [401] * 5
        assert codes[5:] == [429, 429]
        assert LoginEvent.objects.count() == 5  # throttled requests never reach the view

    def test_throttled_answer_is_contract_shaped(self, api_client):
        with rates(login="1/min"), time_machine.travel(START, tick=False):
            attempt_login(api_client, "y@example.com")
            response = attempt_login(api_client, "y@example.com")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "throttled"
        assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_the_user_throttle_counts_with_the_user_row_and_refuses_past_its_rate(user_client, django_assert_num_queries):
    """On PostgreSQL the user throttle's hit rides on the statement that reads the user row: one statement
    for both, and the fourth request of a 3/min rate is 429 with its Retry-After."""
    window_start = (int(time.time()) // 60 + 1) * 60  # the next minute: the four requests share its window
    with rates(user="3/min"), time_machine.travel(window_start + 1, tick=False):
        assert user_client.get("/accounts/").status_code == 200  # reference data read once
        with django_assert_num_queries(2):  # the user row with its hit, the account list
            assert user_client.get("/accounts/").status_code == 200
        assert user_client.get("/accounts/").status_code == 200
        refused = user_client.get("/accounts/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "throttled")
    assert int(refused["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_throttle_counts_are_shared_across_connections():
    """Every worker process counts in the same PostgreSQL row: two connections see one counter."""
    key = f"test:{uuid.uuid4()}"
    now = 1_800_000_000.0
    results = []

    def worker():
        try:
            results.extend(hit(key, 60, now=now)[0] for _ in range(5))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 11))
    assert api_settings.DEFAULT_THROTTLE_CLASSES  # the default throttles are these shared ones
    assert {cls.__module__ for cls in api_settings.DEFAULT_THROTTLE_CLASSES} == {"nexus.throttles"}


@pytest.mark.django_db
class TestBlacklist:
    URLS = [("get", "/health/"), ("post", "/auth/jwt/create/"), ("post", "/auth/register/"), ("get", "/accounts/"),
            ("get", "/api/docs/"), ("get", "/admin/"), ("get", "/fx/rates/"), ("post", "/transfers/external/")]

    def test_blocked_cidr_gets_403_everywhere_and_one_incident(self, api_client):
        BlockedIP.objects.create(cidr="203.0.113.0/24", reason="test")
        for method, url in self.URLS:
            response = getattr(api_client, method)(url, REMOTE_ADDR=UNTRUSTED)
            assert response.status_code == 403, url
            assert response.json()["error"]["code"] == "ip_blocked"
        assert Incident.objects.filter(code="blacklisted_ip").count() == 1
        assert api_client.get("/health/", REMOTE_ADDR="198.51.100.1").status_code == 200

    def test_environment_blacklist(self, api_client, settings):
        settings.RISK_BLACKLISTED_IPS = ["192.0.2.0/28"]
        assert api_client.get("/health/", REMOTE_ADDR="192.0.2.5").status_code == 403
        assert api_client.get("/health/", REMOTE_ADDR="192.0.2.17").status_code == 200

    def test_the_check_costs_one_version_read_per_request(self, api_client, django_assert_num_queries):
        BlockedIP.objects.create(cidr="203.0.113.0/24")
        api_client.get("/health/")  # loads the cached list
        with django_assert_num_queries(2) as context:  # the reference version, then the health check's SELECT 1
            api_client.get("/health/")
        assert "nexus_referenceversion" in context.captured_queries[0]["sql"]
        assert not any("risk_blockedip" in query["sql"] for query in context.captured_queries)

    def test_staff_manage_the_blacklist(self, staff_client, api_client):
        response = staff_client.post("/risk/blacklist/", {"cidr": "198.51.100.0/24", "reason": "abuse"},
                                     format="json")
        assert response.status_code == 201
        assert response.json()["cidr"] == "198.51.100.0/24"
        refcache.clear()
        assert api_client.get("/health/", REMOTE_ADDR="198.51.100.3").status_code == 403
        assert staff_client.post("/risk/blacklist/", {"cidr": "not-an-ip"}, format="json").status_code == 400
        listed = staff_client.get("/risk/blacklist/").json()["results"]
        assert staff_client.delete(f"/risk/blacklist/{listed[0]['id']}/").status_code == 204
        refcache.clear()
        assert api_client.get("/health/", REMOTE_ADDR="198.51.100.3").status_code == 200


RISK_URLS = ["/risk/incidents/", "/risk/login-events/", "/risk/blacklist/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", RISK_URLS)
def test_risk_endpoints_are_staff_only(url, api_client, user_client, staff_client):
    assert api_client.get(url).json()["error"]["code"] == "not_authenticated"
    forbidden = user_client.get(url)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "permission_denied")
    assert staff_client.get(url).status_code == 200


@pytest.mark.django_db
def test_staff_filter_and_update_incidents(staff_client, staff, api_client):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt_login(api_client, "victim@example.com")
    body = staff_client.get("/risk/incidents/", {"code": "brute_force", "severity": "high", "status": "open"}).json()
    assert len(body["results"]) == 1
    incident = body["results"][0]
    assert set(incident) >= {"id", "code", "event", "severity", "status", "user", "ip", "country", "details",
                             "timestamp"}
    assert staff_client.get("/risk/incidents/", {"severity": "low"}).json()["results"] == []
    assert staff_client.get("/risk/incidents/", {"ip": "127.0.0.1"}).json()["results"]
    assert staff_client.get("/risk/incidents/", {"from": "2026-03-03T00:00:00Z"}).json()["results"] == []
    response = staff_client.patch(f"/risk/incidents/{incident['id']}/", {"status": "resolved", "note": "checked"},
                                  format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    stored = Incident.objects.get(pk=incident["id"])
    assert (stored.status_changed_by_id, stored.note) == (staff.pk, "checked")
    assert staff_client.patch(f"/risk/incidents/{incident['id']}/", {"status": "bogus"}, format="json").status_code == 400
    events = staff_client.get("/risk/login-events/", {"email": "victim@example.com", "successful": "false"}).json()
    assert len(events["results"]) == 5
    assert set(events["results"][0]) == {"id", "user", "attempted_email", "ip", "country", "user_agent",
                                         "successful", "timestamp"}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1999-12-31T23:59:59Z",
                                   "3000-01-01T00:00:00Z", "2026-01-01T00:00:00+14:01", "2026-01-01T00:00:00-23:59",
                                   "2026-01-01T00:00:00", "2026-01-01", "20260101T000000Z", "2026-01-01T00:00Z"])
def test_incident_date_filters_refuse_what_is_out_of_bounds(staff_client, value):
    """Finding 8: ?from=0001-01-01T00:00:00+01:00 was a 500 (the offset took it below year 1)."""
    for name in ("from", "to"):
        response = staff_client.get("/risk/incidents/", {name: value})
        assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error"), (name, value)
        assert name in response.json()["error"]["details"]


@pytest.mark.django_db
def test_incident_date_filters_compare_in_utc(staff_client, api_client):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt_login(api_client, "victim@example.com")
    for bounds, found in [({"from": "2026-03-02T14:59:59+03:00"}, 1), ({"from": "2026-03-02T15:00:01+03:00"}, 0),
                          ({"to": "2026-03-02T00:00:00-14:00"}, 1), ({"to": "2000-01-01T00:00:00+14:00"}, 0),
                          ({"from": "2000-01-01T00:00:00+14:00", "to": "2999-12-31T23:59:59-14:00"}, 1)]:
        response = staff_client.get("/risk/incidents/", bounds)
        assert response.status_code == 200 and len(response.json()["results"]) == found, bounds
