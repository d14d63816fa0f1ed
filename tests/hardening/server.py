"""The app as a real server process (gunicorn) on this test's database, and a tiny HTTP client."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database this test runs on (pytest-django's test database)."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host, port, name = settings_dict["HOST"] or "", settings_dict["PORT"] or "5432", settings_dict["NAME"]
    if host.startswith("/"):  # a Unix socket directory (the embedded server)
        return f"postgres://{credentials}/{quote(name)}?host={quote(host)}&port={port}"
    return f"postgres://{credentials}{host}:{port}/{quote(name)}"


APPLICATION_NAME = "nexus-test-server"  # libpq's PGAPPNAME: how this test's own sessions are told apart


def subprocess_env(settings_module: str = "nexus.settings.test", **extra: str) -> dict:
    """The environment of a child process: these settings, this test's database, nothing inherited from pytest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, DATABASE_URL=database_url(connection.settings_dict),
               PYTHONUNBUFFERED="1", PGAPPNAME=APPLICATION_NAME, **extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    except http.client.HTTPException as exc:  # cut off mid-answer (IncompleteRead, a bad status line): for
        # the caller, as a reset connection is: the request may or may not have been applied
        raise ConnectionResetError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


class Server:
    """gunicorn in its own session, so SIGKILL reaches the master and every worker at once."""

    def __init__(self, log: Path, settings_module: str = "nexus.settings.test", *, args: tuple[str, ...] = (),
                 **env: str):
        self.port, self.log = free_port(), log
        self.env = subprocess_env(settings_module, **env)
        self.args = args  # extra gunicorn options
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "nexus.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60", *self.args]

    def start(self, timeout: float = 60) -> None:
        command = self.command()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if request(self.port, "GET", "/health/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


NO_EAGER = {"NEXUS_JOBS_EAGER": "false"}  # the reactions are the worker's, as in production


class Worker:
    """``manage.py run_worker`` in its own session (SIGKILL reaches it and nothing else)."""

    def __init__(self, log):
        self.log, self.process = log, None

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT,
                                            env=subprocess_env(**NO_EAGER), stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


class AsgiServer(Server):
    """uvicorn serving ``nexus.asgi`` (HTTP and the WebSocket), as production runs it beside gunicorn."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "nexus.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log"]


def end_server_sessions(timeout: float = 15) -> None:
    """Wait for the server's database sessions to go (PostgreSQL notices a dead client lazily).

    The server's processes name their sessions (``PGAPPNAME``, :func:`subprocess_env`); what is left of
    them after the timeout belongs to a killed server and is terminated, so the test database can be
    flushed and dropped. The test process's own sessions are not waited for.
    """
    query = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
             "AND application_name = %s")
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(query, [APPLICATION_NAME])
            pids = [row[0] for row in cursor.fetchall()]
            if not pids:
                return
            if time.monotonic() > deadline:
                for pid in pids:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                return
            time.sleep(0.1)
