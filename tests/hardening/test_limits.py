"""Request line and header limits: the app answers past its own in JSON; gunicorn's sit above them.

Found by schemathesis: an over-long query string got gunicorn's HTML ``414 URI Too Long``. The
limits are decided in ``nexus/limits.py``; ``gunicorn.conf.py`` (Dockerfile, test servers) and the
benchmark's config apply gunicorn's. Only a request beyond gunicorn's limits still gets its HTML.
"""

import json
import runpy

import pytest
from django.test import Client

from nexus import limits

from .server import ROOT, Server, end_server_sessions, request

JSON = "application/json"


def query_of_target(path: str, length: int) -> str:
    """``path`` plus a query string making the whole request target exactly ``length`` bytes."""
    prefix = f"{path}?pad="
    return prefix + "a" * (length - len(prefix))


def code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


def test_gunicorns_limits_sit_above_the_apps():
    longest_method, version = len("OPTIONS "), len(" HTTP/1.1")
    assert limits.GUNICORN_LIMIT_REQUEST_LINE >= longest_method + limits.MAX_REQUEST_TARGET + version
    assert limits.GUNICORN_LIMIT_REQUEST_LINE <= 8190  # gunicorn's maximum short of "unlimited"
    assert limits.GUNICORN_LIMIT_REQUEST_FIELD_SIZE > limits.MAX_HEADER_LINE + len("\r\n")
    assert limits.GUNICORN_LIMIT_REQUEST_FIELDS > limits.MAX_HEADER_FIELDS


def test_every_gunicorn_config_applies_the_same_limits():
    names = ["limit_request_line", "limit_request_field_size", "limit_request_fields"]
    expected = [limits.GUNICORN_LIMIT_REQUEST_LINE, limits.GUNICORN_LIMIT_REQUEST_FIELD_SIZE,
                limits.GUNICORN_LIMIT_REQUEST_FIELDS]
    for config in ("gunicorn.conf.py", "bench/gunicorn_conf.py"):
        values = runpy.run_path(str(ROOT / config))
        assert [values[name] for name in names] == expected, config
    assert "gunicorn -c gunicorn.conf.py " in (ROOT / "Dockerfile").read_text()
    assert '"-c", str(ROOT / "gunicorn.conf.py")' in (ROOT / "tests/hardening/server.py").read_text()


@pytest.mark.django_db
class TestInProcess:
    def test_the_longest_target_passes_and_one_byte_more_is_json_414(self):
        client = Client()
        assert client.get(query_of_target("/fx/rates/", limits.MAX_REQUEST_TARGET)).status_code == 200
        response = client.get(query_of_target("/fx/rates/", limits.MAX_REQUEST_TARGET + 1))
        assert response.status_code == 414 and response["Content-Type"] == JSON
        assert response.json()["error"] == {"code": "uri_too_long", "message": response.json()["error"]["message"],
                                            "details": {"max_bytes": limits.MAX_REQUEST_TARGET}}
        assert response["X-Request-ID"]

    def test_a_long_path_is_414_too(self):
        response = Client().get("/accounts/" + "9" * limits.MAX_REQUEST_TARGET + "/")
        assert response.status_code == 414

    def test_a_long_header_line_is_json_431(self):
        response = Client().get("/fx/rates/", HTTP_X_PAD="a" * limits.MAX_HEADER_LINE)
        assert response.status_code == 431 and response.json()["error"]["code"] == "headers_too_large"
        assert response.json()["error"]["details"]["header"] == "X-Pad"

    def test_too_many_header_fields_is_json_431(self):
        extra = {f"HTTP_X_PAD_{n}": "1" for n in range(limits.MAX_HEADER_FIELDS + 1)}
        response = Client().get("/fx/rates/", **extra)
        assert response.status_code == 431 and response.json()["error"]["code"] == "headers_too_large"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = Server(tmp_path_factory.mktemp("limits") / "gunicorn.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()
            end_server_sessions()


class TestRealGunicorn:
    """Against gunicorn started with gunicorn.conf.py, as in the Dockerfile."""

    def test_a_target_between_the_limits_gets_the_apps_json_414(self, gunicorn):
        status, body, headers = request(gunicorn.port, "GET", query_of_target("/fx/rates/", 6000))
        assert (status, headers["Content-Type"], code(body)) == (414, JSON, "uri_too_long")
        status, _, _ = request(gunicorn.port, "GET", query_of_target("/fx/rates/", limits.MAX_REQUEST_TARGET))
        assert status == 200

    def test_a_header_between_the_limits_gets_the_apps_json_431(self, gunicorn):
        status, body, headers = request(gunicorn.port, "GET", "/fx/rates/", headers={"X-Pad": "a" * 12000})
        assert (status, headers["Content-Type"], code(body)) == (431, JSON, "headers_too_large")
        many = {f"X-Pad-{n}": "1" for n in range(80)}
        status, body, headers = request(gunicorn.port, "GET", "/fx/rates/", headers=many)
        assert (status, headers["Content-Type"], code(body)) == (431, JSON, "headers_too_large")

    def test_beyond_gunicorns_limits_gunicorn_answers_itself(self, gunicorn):
        """Documented in the README: the only answers not in the contract's shape."""
        status, _, headers = request(gunicorn.port, "GET", query_of_target("/fx/rates/", 9000))
        assert status == 414 and not headers.get("Content-Type", "").startswith(JSON)
        status, _, headers = request(gunicorn.port, "GET", "/fx/rates/",
                                     headers={"X-Pad": "a" * (limits.GUNICORN_LIMIT_REQUEST_FIELD_SIZE + 1)})
        assert status == 431 and not headers.get("Content-Type", "").startswith(JSON)


@pytest.mark.django_db
def test_every_operation_documents_414_and_431(client):
    schema = client.get("/api/schema/?format=json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"414", "431"} <= set(operation["responses"]), (method, path)
