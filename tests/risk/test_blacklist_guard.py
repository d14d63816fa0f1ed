"""No blacklist entry can lock the bank out (contract v1.3, audit finding 1).

The attack: a Risk analyst blacklists ``0.0.0.0/0`` (or ``::/0``, or their own or the proxy's address);
before the guard it answered 201, then every request (the analyst's own DELETE, the admin, /health/) 403.
"""

import pytest
from django.test import Client

from api import roles
from api.models import AuditRecord
from nexus import refcache
from risk.checks import check_environment_blacklist
from risk.models import BlockedIP
from tests.conftest import auth_client
from tests.factories import StaffFactory
from tests.schema import openapi

pytestmark = pytest.mark.django_db

ANALYST_IP = "198.51.100.7"
PROXY = "10.20.30.40"


@pytest.fixture
def analyst():
    return StaffFactory(roles=[roles.RISK_ANALYST])


@pytest.fixture
def api(analyst):
    return auth_client(analyst)


def block(client, cidr, **meta):
    return client.post("/risk/blacklist/", {"cidr": cidr, "reason": "attack"}, format="json", **meta)


def assert_bank_answers(client):
    refcache.clear()
    assert client.get("/health/").status_code == 200
    assert client.get("/health/", REMOTE_ADDR="192.0.2.200").status_code == 200
    assert client.get("/risk/blacklist/").status_code == 200
    assert Client().get("/admin/login/").status_code == 200


@pytest.mark.parametrize(("cidr", "reason", "detail"), [
    ("0.0.0.0/0", "too_wide", {"widest_prefix": 16}),
    ("::/0", "too_wide", {"widest_prefix": 48}),
    ("10.0.0.0/15", "too_wide", {"widest_prefix": 16}),
    ("2001:db8::/47", "too_wide", {"widest_prefix": 48}),
    ("127.0.0.1", "contains_loopback", {"loopback": "127.0.0.0/8"}),
    ("::ffff:127.0.0.1", "contains_loopback", {"loopback": "127.0.0.0/8"}),
    ("::1", "contains_loopback", {"loopback": "::1/128"}),
    ("10.20.0.0/16", "contains_trusted_proxy", {"proxy": f"{PROXY}/32"}),
    ("198.51.100.0/24", "contains_requester", {"ip": ANALYST_IP}),
])
def test_an_entry_that_would_lock_the_bank_out_is_refused_over_the_api(api, settings, cidr, reason, detail):
    settings.TRUSTED_PROXIES = [*settings.TRUSTED_PROXIES, PROXY]
    response = block(api, cidr, REMOTE_ADDR=ANALYST_IP)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "blacklist_refused"
    assert error["details"]["reason"] == reason and detail.items() <= error["details"].items()
    assert not BlockedIP.objects.exists()
    assert not AuditRecord.objects.filter(action=AuditRecord.Action.BLACKLIST_ADD).exists()
    assert_bank_answers(api)


def test_the_requester_is_the_client_behind_a_trusted_proxy(api, settings):
    settings.TRUSTED_PROXIES = [*settings.TRUSTED_PROXIES, PROXY]
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ANALYST_IP}
    assert block(api, "198.51.100.0/24", **meta).json()["error"]["details"]["reason"] == "contains_requester"
    assert block(api, "203.0.113.0/24", **meta).status_code == 201


def test_the_widest_allowed_ranges_are_accepted(api):
    assert block(api, "10.0.0.0/16").status_code == 201
    assert block(api, "2001:db8::/48").status_code == 201
    assert set(BlockedIP.objects.values_list("cidr", flat=True)) == {"10.0.0.0/16", "2001:db8::/48"}


def test_an_entry_stored_before_the_guard_does_not_take_the_bank_offline(api):
    BlockedIP.objects.create(cidr="0.0.0.0/0", reason="from before v1.3")
    BlockedIP.objects.create(cidr="::/0", reason="from before v1.3")
    BlockedIP.objects.create(cidr="203.0.113.0/24", reason="a real one")
    assert_bank_answers(api)
    assert api.get("/health/", REMOTE_ADDR="203.0.113.9").status_code == 403  # the sane entry still applies


def test_a_too_wide_environment_entry_fails_the_system_check_and_is_ignored(api, settings):
    settings.RISK_BLACKLISTED_IPS = ["0.0.0.0/0", "127.0.0.1", "192.0.2.0/28", "bogus"]
    assert [error.id for error in check_environment_blacklist()] == ["risk.E008", "risk.E008", "risk.E007"]
    assert_bank_answers(api)
    assert api.get("/health/", REMOTE_ADDR="192.0.2.5").status_code == 403
    settings.RISK_BLACKLISTED_IPS = ["192.0.2.0/28"]
    assert check_environment_blacklist() == []


def test_the_admin_add_form_shows_why_an_entry_is_refused(analyst):
    admin = Client(REMOTE_ADDR=ANALYST_IP)
    admin.force_login(analyst)
    for cidr, why in [("0.0.0.0/0", "wider than /16"), ("::/0", "wider than /48"), ("127.0.0.1", "loopback"),
                      ("198.51.100.0/24", f"your own address ({ANALYST_IP})")]:
        page = admin.post("/admin/risk/blockedip/add/", {"cidr": cidr, "reason": "attack"})
        assert page.status_code == 200, cidr  # the form again, with the error on it
        assert why in page.content.decode() and "errorlist" in page.content.decode()
    assert not BlockedIP.objects.exists()
    assert admin.post("/admin/risk/blockedip/add/", {"cidr": "203.0.113.0/24", "reason": "abuse"}).status_code == 302
    assert AuditRecord.objects.get(action=AuditRecord.Action.BLACKLIST_ADD).object_id == str(BlockedIP.objects.get().pk)
    assert_bank_answers(auth_client(analyst))


def test_the_schema_declares_the_refusal():
    post = openapi()["paths"]["/risk/blacklist/"]["post"]
    assert "422" in post["responses"] and "blacklist_refused" in post["responses"]["422"]["description"]


@pytest.mark.parametrize("cidr", ["0.0.0.0", "::", "0.0.0.0/32", "169.254.1.1", "fe80::1"])  # noqa: S104 - addresses as data
def test_addresses_no_client_can_have_are_refused(cidr, client_for):
    from api import roles
    from tests.factories import StaffFactory

    analyst = client_for(StaffFactory(roles=[roles.RISK_ANALYST]))
    response = analyst.post("/risk/blacklist/", {"cidr": cidr, "reason": "x"}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"]["reason"] == "not_routable"
