import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection, connections, transaction

from api.models import Account

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_database_is_real_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_select_for_update_makes_a_second_connection_wait(account_factory):
    account = account_factory()
    locked = threading.Event()
    release = threading.Event()

    def holder():
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            locked.set()
            release.wait(5)
        connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(5)
    started = time.monotonic()
    result = {}

    def waiter():
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            result["waited"] = time.monotonic() - started
        connections.close_all()

    second = threading.Thread(target=waiter)
    second.start()
    time.sleep(0.5)
    assert second.is_alive(), "the second SELECT ... FOR UPDATE must wait for the first lock"
    release.set()
    thread.join(5)
    second.join(5)
    assert result["waited"] >= 0.5


def test_health(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_reports_database_down(client, db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_openapi_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    assert "/transfers/external/" in schema["paths"]


def test_swagger_and_redoc_use_only_local_assets(client, db):
    for url, script in (("/api/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
                        ("/api/redoc/", "/api/redoc/redoc.standalone.js")):
        html = client.get(url).content.decode()
        assert f'src="{script}"' in html
        assert "cdn" not in html.lower()
        assert "https://" not in html and "http://" not in html
        assert client.get(script).status_code == 200
    # ReDoc's bundle as served loads no image from a CDN (its footer logo; the CSP would block it).
    bundle = client.get("/api/redoc/redoc.standalone.js").content.decode()
    assert "Redoc" in bundle and "cdn.redoc.ly" not in bundle


def test_unknown_path_is_contract_shaped_404(client, db):
    response = client.get("/no/such/path/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_paths_answer_with_and_without_trailing_slash(user_client):
    assert user_client.get("/accounts").status_code == 200
    assert user_client.get("/accounts/").status_code == 200
    assert user_client.post("/accounts", {"type": "USD"}, format="json").status_code == 201


def _django(args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_refuse_to_start_without_secret_key():
    result = _django(["check"], DJANGO_SETTINGS_MODULE="nexus.settings.production", DJANGO_ALLOWED_HOSTS="bank.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts():
    result = _django(["check"], DJANGO_SETTINGS_MODULE="nexus.settings.production", DJANGO_SECRET_KEY="k" * 64)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    # risk.W001 (no GeoIP file on a test machine) is tested in tests/risk/test_checks.py.
    result = _django(["check", "--deploy", "--fail-level", "WARNING"], DJANGO_SETTINGS_MODULE="nexus.settings.production",
                     DJANGO_SECRET_KEY="prod-" + "k9Z!x" * 14, DJANGO_ALLOWED_HOSTS="bank.example",
                     JWT_SIGNING_KEY="jwt-" + "m3Q@w" * 12, CARD_FINGERPRINT_KEY="card-" + "p7L#z" * 12,
                     TRUSTED_PROXIES="10.0.0.0/8", DJANGO_SILENCED_SYSTEM_CHECKS="risk.W001")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_docker_compose_runs_the_app_against_the_database_service():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["db"]
    assert any("/var/lib/postgresql/data" in volume for volume in services["db"]["volumes"])
    app = services["app"]
    assert "@db:5432/" in app["environment"]["DATABASE_URL"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "gunicorn" in (ROOT / "Dockerfile").read_text()
    assert "migrate" in (ROOT / "Dockerfile").read_text()
    assert "redis" in services


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose client not installed")
def test_docker_compose_config_is_valid(tmp_path):
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    env_file = (ROOT / ".env.example").read_text()
    env_file = env_file.replace("DJANGO_SECRET_KEY=\n", "DJANGO_SECRET_KEY=" + "x" * 60 + "\n")
    (tmp_path / ".env").write_text(env_file.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=pw\n"))
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr


def test_no_secret_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked
    env_example = (ROOT / ".env.example").read_text()
    assert "DJANGO_SECRET_KEY=\n" in env_example
