"""Where the WebSocket is served (contract v1.2): by every way the app is started."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_serves_the_websocket_with_uvicorn_beside_gunicorn():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    command = services["ws"]["command"]
    assert command[:2] == ["uvicorn", "nexus.asgi:application"] and "8001" in command
    # Through PgBouncer, so the channel layer is Redis (PostgreSQL's LISTEN needs a session of its own).
    environment = services["ws"]["environment"]
    assert "@pgbouncer:6432/" in environment["DATABASE_URL"] and environment["REDIS_URL"].startswith("redis://")
    assert "nexus.wsgi:application" in (ROOT / "Dockerfile").read_text()  # REST stays on gunicorn


def test_the_run_command_serves_the_asgi_application():
    run = (ROOT / "scripts" / "run.py").read_text()
    assert '"uvicorn", "nexus.asgi:application"' in run and "runserver" not in run
