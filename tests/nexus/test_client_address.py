"""One address per client, and forwarded headers believed only from trusted proxies.

* An IPv4-mapped IPv6 peer (``::ffff:a.b.c.d``) is that IPv4 address everywhere: blacklist,
  throttles, lockouts and login events (it slipped past IPv4 blacklist entries).
* ``X-Forwarded-Proto`` counts only when the direct peer is in TRUSTED_PROXIES (Django's
  SECURE_PROXY_SSL_HEADER believed it from any client).
"""

import pytest

from nexus import refcache
from nexus.client_ip import client_ip, normalize_ip, normalize_network
from risk import services as risk
from risk.models import BlockedIP, LoginEvent
from tests.factories import PASSWORD
from tests.logins import attempt_login

pytestmark = pytest.mark.django_db

MAPPED = "::ffff:203.0.113.7"


@pytest.mark.parametrize(("raw", "normal"), [
    (MAPPED, "203.0.113.7"), ("::FFFF:cb00:7107", "203.0.113.7"), ("203.0.113.7", "203.0.113.7"),
    ("2001:db8::1", "2001:db8::1"), (" 2001:DB8::1 ", "2001:db8::1"), ("not-an-ip", None),
])
def test_addresses_have_one_spelling(raw, normal):
    assert normalize_ip(raw) == normal


def test_mapped_ranges_are_their_ipv4_ranges():
    assert str(normalize_network("::ffff:198.51.100.0/120")) == "198.51.100.0/24"
    assert str(normalize_network("::ffff:198.51.100.9")) == "198.51.100.9/32"
    assert str(normalize_network("2001:db8::/32")) == "2001:db8::/32"
    assert risk.normalize_cidr("::ffff:198.51.100.0/120") == "198.51.100.0/24"


def test_a_mapped_peer_is_caught_by_an_ipv4_blacklist_entry(api_client):
    BlockedIP.objects.create(cidr="203.0.113.0/24", reason="test")
    response = api_client.get("/health/", REMOTE_ADDR=MAPPED)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "ip_blocked")


def test_a_mapped_blacklist_entry_catches_the_ipv4_client(staff_client, api_client):
    created = staff_client.post("/risk/blacklist/", {"cidr": "::ffff:198.51.100.0/120", "reason": "test"},
                                format="json")
    assert created.status_code == 201 and created.json()["cidr"] == "198.51.100.0/24"
    refcache.clear()
    assert api_client.get("/health/", REMOTE_ADDR="198.51.100.20").status_code == 403


def test_login_events_and_lockouts_see_the_ipv4_address(api_client, user):
    for _ in range(5):
        attempt_login(api_client, user.email, REMOTE_ADDR=MAPPED)
    assert set(LoginEvent.objects.values_list("ip", flat=True)) == {"203.0.113.7"}
    # The lockout counted by (email, IP) holds whichever way the same client's address is written.
    locked = attempt_login(api_client, user.email, PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "locked_out")


def test_a_mapped_loopback_proxy_is_trusted():
    meta = {"REMOTE_ADDR": "::ffff:127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.4"}
    assert client_ip(meta) == "198.51.100.4"
    assert client_ip({"REMOTE_ADDR": "::ffff:198.51.100.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == "198.51.100.5"


class TestForwardedProto:
    @pytest.fixture(autouse=True)
    def _behind_a_tls_proxy(self, settings):
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.SECURE_SSL_REDIRECT = True

    def test_a_client_cannot_claim_https(self, client):
        response = client.get("/fx/rates/", REMOTE_ADDR="198.51.100.8", HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 301 and response["Location"].startswith("https://")

    def test_a_trusted_proxy_can(self, client):
        assert client.get("/fx/rates/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https").status_code == 200
        assert client.get("/fx/rates/", REMOTE_ADDR="::ffff:127.0.0.1", HTTP_X_FORWARDED_PROTO="https").status_code == 200

    def test_a_trusted_proxy_saying_http_is_redirected(self, client):
        assert client.get("/fx/rates/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="http").status_code == 301

    def test_real_tls_needs_no_header(self, client):
        assert client.get("/fx/rates/", REMOTE_ADDR="198.51.100.8", secure=True).status_code == 200
