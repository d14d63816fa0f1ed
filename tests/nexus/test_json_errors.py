"""Security audit (contract v1.3): every path and method answers its errors in the contract's JSON shape.

Found: POST, FOO or QUERY on ``/health/``, the guide or a static file answered Django's HTML CSRF page
(403) or whitenoise's empty 405; with ``DEBUG`` on, ``/foo%0Abar/`` (no URL pattern matches a newline)
answered Django's debug page listing every URL pattern, and a crash its traceback page. A client that
enforces CSRF, as a real server does, and ``DEBUG`` both ways: the test client skips CSRF by default.
Only the admin keeps its pages, in its own look.
"""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver

from nexus import docs
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

STATIC_FILE = "/static/admin/css/base.css"  # served by whitenoise
READ_ONLY = ["/health/", "/health", "/api/guide/", "/api/redoc/redoc.standalone.js", "/", "/api/schema/",
             "/api/docs/", "/api/redoc/", STATIC_FILE]
UNKNOWN = ["/nope/", "/foo%0Abar/", "/foo%0Abar", "/static/nope.css", "/ws/"]
DEBUG = pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])


def browser() -> Client:
    """Checks CSRF like the real server and hands back what a crash answers rather than raising it."""
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert b"<html" not in response.content.lower() and b"Traceback" not in response.content


def test_the_static_file_is_real():
    assert finders.find("admin/css/base.css")
    assert browser().get(STATIC_FILE).status_code == 200


@DEBUG
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "FOO", "QUERY"])
@pytest.mark.parametrize("url", READ_ONLY)
def test_a_wrong_method_on_a_read_only_page_is_the_json_405(url, method, debug):
    with override_settings(DEBUG=debug):
        response = browser().generic(method, url, b"{}", content_type="application/json")
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
    assert response["X-Request-ID"]  # the response went through the whole middleware stack


def views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from views(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry.callback


def test_no_view_outside_the_admin_answers_a_csrf_failure():
    """The class of the finding: a view checked for CSRF answers an unsafe method with a 403 before it
    can refuse the method (405). Only the admin uses the session cookie that CSRF protects."""
    checked = [route for route, view in views()
               if not route.startswith("admin/") and not getattr(view, "csrf_exempt", False)]
    assert checked == []


@DEBUG
@pytest.mark.parametrize("method", ["GET", "POST", "FOO", "QUERY"])
@pytest.mark.parametrize("url", UNKNOWN)
def test_an_unknown_path_is_the_json_404_whatever_the_method(url, method, debug):
    with override_settings(DEBUG=debug):
        response = browser().generic(method, url)
    assert_json_error(response, 404, "not_found")


@DEBUG
def test_a_crash_outside_drf_is_the_json_500_and_shows_nothing(monkeypatch, debug):
    class Exploding:
        def read_text(self, encoding):
            raise RuntimeError("SECRET-INTERNALS")

    monkeypatch.setattr(docs, "GUIDE", Exploding())
    with override_settings(DEBUG=debug):
        response = browser().get("/api/guide/")
    assert_json_error(response, 500, "server_error")
    assert b"SECRET-INTERNALS" not in response.content


def test_a_bad_host_is_the_json_400_with_debug_on():
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["testserver"]):
        response = browser().get("/health/", HTTP_HOST="evil.example")
    assert_json_error(response, 400, "validation_error")


def test_the_admin_keeps_its_pages():
    staff = browser()
    staff.force_login(StaffFactory(roles=["Teller"]))
    for debug in (False, True):
        with override_settings(DEBUG=debug):
            missing = staff.get("/admin/api/no-such-page/")
            wrong_method = staff.get("/admin/logout/")  # the admin logs out by POST only
        assert missing.status_code == 404 and missing["Content-Type"].startswith("text/html")
        assert wrong_method.status_code == 405 and wrong_method["Content-Type"].startswith("text/html")
        assert "POST" in wrong_method["Allow"] and "GET" not in wrong_method["Allow"]
        assert 'id="logout-form"' in wrong_method.content.decode()  # the admin's own header
