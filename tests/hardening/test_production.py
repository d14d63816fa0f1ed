"""Production settings pass their own checks: deploy check, headers, CSP, CORS, no tracebacks, passwords, secrets.

Production settings are a different settings module, so they are exercised in child processes
(``manage.py check --deploy``, a settings dump, requests through Django's test client, and a real
gunicorn with a headless Chromium when one is installed), all on this test's database.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.models import User

from .server import ROOT, Server, end_server_sessions, subprocess_env

SECRET = "prod-secret-" + "Zx9!kQ2@wE7#rT4$" * 4
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "bank.example",
    "JWT_SIGNING_KEY": "jwt-" + "Lp3%vB8^nM1&" * 5,
    "CARD_FINGERPRINT_KEY": "card-" + "Hy6*uJ0(iK5)" * 5,
    "TOTP_ENCRYPTION_KEY": "totp-" + "Qw2@eR5%tY8&" * 5,
    "TRUSTED_PROXIES": "127.0.0.1/32,10.0.0.0/8",  # the TLS proxy's network (risk.W002 otherwise)
}
CSP_PAGES = ["/api/docs/", "/api/redoc/", "/admin/login/", "/admin/"]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=subprocess_env("nexus.settings.production", **{**PRODUCTION_ENV, **env}))


def run_json(code: str, **env: str):
    result = run_python("import django, json; django.setup()\n" + code, **env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- settings -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_check_deploy_is_clean():
    # No GeoIP file on a test machine: risk.W001 is expected here and tested in tests/risk/test_checks.py.
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=subprocess_env("nexus.settings.production", **PRODUCTION_ENV,
                                               DJANGO_SILENCED_SYSTEM_CHECKS="risk.W001"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_production_settings_are_secure_and_secrets_come_from_the_environment():
    names = ["DEBUG", "SECRET_KEY", "CARD_FINGERPRINT_KEY", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
             "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_CONTENT_TYPE_NOSNIFF",
             "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "CORS_ALLOWED_ORIGINS", "CORS_ALLOW_ALL_ORIGINS",
             "CORS_ALLOW_CREDENTIALS", "ALLOWED_HOSTS", "DATA_UPLOAD_MAX_MEMORY_SIZE"]
    code = (f"from django.conf import settings as s\nnames = {names!r}\n"
            "out = {n: getattr(s, n) for n in names}\nout['JWT'] = s.SIMPLE_JWT['SIGNING_KEY']\n"
            "out['HASHER'] = s.PASSWORD_HASHERS[0]\nprint(json.dumps(out, default=str))")
    values = run_json(code)
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == SECRET
    assert values["JWT"] == PRODUCTION_ENV["JWT_SIGNING_KEY"]
    assert values["CARD_FINGERPRINT_KEY"] == PRODUCTION_ENV["CARD_FINGERPRINT_KEY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["CORS_ALLOWED_ORIGINS"] == [] and values["CORS_ALLOW_ALL_ORIGINS"] is False
    assert values["CORS_ALLOW_CREDENTIALS"] is False
    assert values["ALLOWED_HOSTS"] == ["bank.example"]
    assert values["DATA_UPLOAD_MAX_MEMORY_SIZE"] <= 64 * 1024
    assert "MD5" not in values["HASHER"]
    # CORS opens only to the origins configured.
    opened = run_json("from django.conf import settings as s\nprint(json.dumps(s.CORS_ALLOWED_ORIGINS))",
                      CORS_ALLOWED_ORIGINS="https://app.bank.example,https://m.bank.example")
    assert opened == ["https://app.bank.example", "https://m.bank.example"]


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "JWT_SIGNING_KEY",
                                     "CARD_FINGERPRINT_KEY", "TOTP_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_its_secrets(missing):
    result = run_python("import django; django.setup()", **{missing: ""})
    assert result.returncode != 0 and missing in result.stderr


@pytest.mark.parametrize("name", ["JWT_SIGNING_KEY", "CARD_FINGERPRINT_KEY", "TOTP_ENCRYPTION_KEY"])
def test_production_keys_are_their_own(name):
    """Neither falls back to, nor may equal, DJANGO_SECRET_KEY."""
    assert name in run_python("import django; django.setup()", **{name: SECRET}).stderr
    assert name in run_python("import django; django.setup()", **{name: "short-" * 5}).stderr


def test_production_refuses_a_short_secret_key():
    result = run_python("import django; django.setup()", DJANGO_SECRET_KEY="too-short")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_no_secret_is_hard_coded_in_the_shared_or_production_settings():
    secretish = re.compile(r"(SECRET|KEY|PASSWORD|TOKEN)", re.IGNORECASE)
    for name in ("base.py", "production.py"):
        tree = ast.parse((ROOT / "nexus" / "settings" / name).read_text())
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                label = ast.unparse(target)
                if secretish.search(label) and isinstance(node.value, ast.Constant) and node.value.value:
                    pytest.fail(f"{name}: {label} is assigned a literal")


# --- responses under production settings ----------------------------------------------------

PROBE = """
from django.test import Client
c = Client(raise_request_exception=False)
out = {}
def show(name, response):
    out[name] = {"status": response.status_code, "headers": dict(response.headers),
                 "body": response.content[:400].decode(errors="replace")}
show("docs", c.get("/api/docs/", secure=True, HTTP_HOST="bank.example"))
show("api_401", c.get("/accounts/", secure=True, HTTP_HOST="bank.example"))
show("unknown", c.get("/no/such/page/", secure=True, HTTP_HOST="bank.example"))
show("plain_http", c.get("/accounts/", HTTP_HOST="bank.example"))
show("health_http", c.get("/health/", HTTP_HOST="bank.example"))
show("bad_host", c.get("/accounts/", secure=True, HTTP_HOST="evil.example"))
show("cors_preflight", c.options("/transfers/internal/", secure=True, HTTP_HOST="bank.example",
     HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return run_json(PROBE)


def test_security_headers_on_every_response(production_responses):
    for name in ("docs", "api_401", "unknown"):
        headers = production_responses[name]["headers"]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert headers["X-Request-ID"], name


def test_https_is_enforced_except_for_health_probes(production_responses):
    assert production_responses["plain_http"]["status"] == 301
    assert production_responses["plain_http"]["headers"]["Location"].startswith("https://bank.example/")
    assert production_responses["health_http"]["status"] == 200


def test_errors_are_json_without_details_of_the_server(production_responses):
    for name, status in (("api_401", 401), ("unknown", 404), ("bad_host", 400)):
        response = production_responses[name]
        assert response["status"] == status, response
        assert json.loads(response["body"])["error"]["code"], response
        assert "Traceback" not in response["body"] and "DEBUG" not in response["body"]


def test_cors_is_closed_by_default(production_responses):
    assert "Access-Control-Allow-Origin" not in production_responses["cors_preflight"]["headers"]


# --- CSP: strict, and Swagger UI / ReDoc / admin still work with local assets ------------------

def csp_directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


class AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.inline_scripts, self._in_inline = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            elif attrs.get("type", "text/javascript") not in ("application/json",):
                self._in_inline = True
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.urls.append(attrs["src"])

    def handle_data(self, data):
        if self._in_inline and data.strip():
            self.inline_scripts.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline = False


def test_csp_allows_only_same_origin_scripts_and_the_pages_need_nothing_else(client, db, admin_client):
    for url in CSP_PAGES:
        response = (admin_client if url == "/admin/" else client).get(url)
        assert response.status_code == 200, url
        directives = csp_directives(response["Content-Security-Policy"])
        assert directives["script-src"] == ["'self'"], "no inline or remote script"
        assert directives["default-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
        parser = AssetParser()
        parser.feed(response.content.decode())
        assert not parser.inline_scripts, (url, parser.inline_scripts[:1])
        for asset in parser.urls:
            assert asset.startswith("/") and not asset.startswith("//"), (url, asset)  # same origin
            assert client.get(asset).status_code == 200, (url, asset)


def test_admin_pages_have_no_inline_scripts(admin_client):
    """Every admin page linked from the index (changelists, add forms) runs under the strict CSP."""
    index = admin_client.get("/admin/")
    links = sorted(set(re.findall(r'href="(/admin/[^"#?]*)"', index.content.decode())) - {"/admin/logout/"})
    assert len(links) > 10, links
    for url in links:
        response = admin_client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        parser = AssetParser()
        parser.feed(response.content.decode())
        assert not parser.inline_scripts, (url, parser.inline_scripts[0][:200])


CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
                None)


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium installed")
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_and_redoc_render_in_a_browser_under_the_csp(tmp_path):
    """A real browser loads the docs from a production-settings gunicorn: they render, nothing loads
    from elsewhere (ReDoc's footer logo once came from cdn.redoc.ly) and the CSP blocks nothing."""
    server = Server(tmp_path / "gunicorn.log", "nexus.settings.production",
                    **{**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "false"})
    server.start()
    try:
        for path, rendered in (("/api/docs/", 'class="opblock-summary-path"'), ("/api/redoc/", "/transfers/internal/"),
                               ("/admin/login/", 'id="login-form"')):
            result = subprocess.run(
                [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--enable-logging=stderr", "--v=0",
                 "--virtual-time-budget=15000", "--dump-dom", f"http://127.0.0.1:{server.port}{path}"],
                capture_output=True, text=True, timeout=120,
            )
            assert rendered in result.stdout, (path, result.stdout[:500], result.stderr[-2000:])
            violations = [line for line in result.stderr.splitlines() if "Content Security Policy" in line]
            assert not violations, (path, violations)
    finally:
        server.stop()
        end_server_sessions()


# --- passwords ------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("password", "accepted"), [
    ("Sh0rt-Pass!", False),  # 11 characters
    ("password1234", False),  # common
    ("qwertyuiop123", False),  # common
    ("839201746510", False),  # entirely numeric
    ("newcustomer-example", False),  # too close to the email
    ("Vq7!mZ2#kL9p", True),  # 12 characters, not common
])
def test_register_enforces_password_strength(api_client, password, accepted):
    body = {"email": "newcustomer@example.com", "password": password}
    response = api_client.post("/auth/register/", body, format="json")
    if accepted:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 400
        assert "password" in response.json()["error"]["details"]
        assert not User.objects.filter(email="newcustomer@example.com").exists()


# --- crashes --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_unexpected_exception_is_a_json_500_without_traceback(client, monkeypatch, caplog):
    from api.views import fx

    def crash(self, request):
        raise RuntimeError("internal detail: db password is hunter2")

    monkeypatch.setattr(fx.FxRatesView, "get", crash)
    client.raise_request_exception = False
    response = client.get("/fx/rates/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "Internal server error.", "details": {}}}
    assert b"hunter2" not in response.content and b"Traceback" not in response.content
    assert "X-Request-ID" in response.headers  # the id to find the server-side log line with


def test_the_test_suite_runs_with_debug_off(settings):
    assert settings.DEBUG is False
    assert Path(settings.BASE_DIR, ".env").exists() is False or "DJANGO_DEBUG=True" not in Path(
        settings.BASE_DIR, ".env").read_text()


@pytest.mark.django_db
def test_cors_opens_only_to_configured_origins_with_the_contract_headers(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.bank.example"]
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
                 "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type, idempotency-key"}
    allowed = client.options("/transfers/internal/", HTTP_ORIGIN="https://app.bank.example", **preflight)
    assert allowed["Access-Control-Allow-Origin"] == "https://app.bank.example"
    assert "idempotency-key" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed
    exposed = client.get("/health/", HTTP_ORIGIN="https://app.bank.example")
    assert "X-Request-ID" in exposed["Access-Control-Expose-Headers"]
    for origin in ("https://evil.example", "https://app.bank.example.evil.example", "null", "http://app.bank.example"):
        refused = client.options("/transfers/internal/", HTTP_ORIGIN=origin, **preflight)
        assert "Access-Control-Allow-Origin" not in refused, origin


@pytest.mark.django_db
def test_authenticated_answers_are_never_cached(user_client, client):
    assert user_client.get("/accounts/")["Cache-Control"] == "no-store"
    assert user_client.get("/no/such/thing/")["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/fx/rates/").get("Cache-Control", "")  # public data may be cached
