"""docker-compose.yml brought up on a private daemon, with the documented switch to local images.

The compose file is the repository's, with docker-compose.local-images.yml beside it and nothing else:
its variables (secrets generated for this run, the published port on loopback) come from an env file
written outside the clone. Debian's docker-compose (v1.29) is the client; each call has a time limit.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from cluster.topology import free_port, http_get, wait_for

from .daemon import COMPOSE, Daemon

ROOT = Path(__file__).resolve().parent.parent
FILES = ("docker-compose.yml", "docker-compose.local-images.yml")
KEYS = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "CARD_FINGERPRINT_KEY", "TOTP_ENCRYPTION_KEY")
PASSWORDS = ("POSTGRES_PASSWORD", "POSTGRES_SUPERUSER_PASSWORD", "POSTGRES_REPLICATION_PASSWORD")


class ComposeFailed(RuntimeError):
    """A docker-compose command failed (the stack misbehaves): the tests fail, with its output."""


class Stack:
    def __init__(self, daemon: Daemon, workdir: Path, project: str = "nexustest", app_env: dict | None = None):
        self.daemon = daemon
        self.project = project
        self.workdir = workdir
        self.port = free_port()
        self.ports = {"http": self.port}  # as tests/cluster's helpers expect
        self.secrets = {name: secrets.token_urlsafe(64) for name in KEYS}
        self.secrets |= {name: secrets.token_hex(24) for name in PASSWORDS}
        self.is_down = False
        self.env_file = workdir / "compose.env"
        values = {
            "NEXUS_ENV_FILE": str(self.env_file),
            "NEXUS_HTTP_PORT": f"127.0.0.1:{self.port}",
            "DJANGO_SETTINGS_MODULE": "nexus.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no TLS terminator in front of HAProxy here.
            "DJANGO_SECURE_SSL_REDIRECT": "False",
            "POSTGRES_USER": "nexus",
            **self.secrets,
            **(app_env or {}),
        }
        # The run's secrets: readable by root only from the start.
        with open(os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write("".join(f"{key}={value}\n" for key, value in values.items()))

    # -- docker-compose -------------------------------------------------------------------------
    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(COMPOSE), "--ansi", "never", "-p", self.project, "--env-file", str(self.env_file),
                   *[arg for name in FILES for arg in ("-f", str(ROOT / name))], *args]
        try:
            result = subprocess.run(command, cwd=ROOT, env=self.daemon.env, capture_output=True, text=True,
                                    timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ComposeFailed(f"docker-compose {' '.join(args)} did not finish within {timeout:.0f} s: "
                                f"{_text(exc.stdout)[-1500:]}{_text(exc.stderr)[-3000:]}") from None
        if check and result.returncode:
            raise ComposeFailed(f"docker-compose {' '.join(args)} failed (exit {result.returncode}):\n"
                                f"{result.stdout[-1500:]}{result.stderr[-4000:]}\n{self.diagnose()}")
        return result

    def build(self) -> None:
        self.compose("build", timeout=900)

    def up(self) -> None:
        self.compose("up", "-d", timeout=600)

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "10", timeout=300)
        self.is_down = True

    def servers(self, backend: str) -> dict[str, dict[str, str]]:
        """HAProxy's servers of ``backend`` that have an address (the DNS-filled slots of a server-template)."""
        return {name.split("/", 1)[1]: row for name, row in self.haproxy_stats().items()
                if name.startswith(f"{backend}/") and row.get("addr")}

    def wait_ready(self, timeout: float = 180) -> float:
        """Until HAProxy has every app and ws replica UP and /health/ answers 200 on the published port."""
        replicas = {"app_nodes": len(self.running("app")), "ws_nodes": len(self.running("ws"))}

        def ready() -> bool:
            for backend, count in replicas.items():
                up = [row for row in self.servers(backend).values() if row["status"] == "UP"]
                if len(up) < count:
                    return False
            return http_get(self.port, "/health/", timeout=5)[0] == 200

        try:
            return wait_for(ready, timeout, "every replica UP in HAProxy and /health/ 200", 1.0)
        except TimeoutError as exc:
            raise ComposeFailed(f"{exc}\n{self.diagnose()}") from None

    # -- containers -----------------------------------------------------------------------------
    def containers(self, service: str | None = None) -> list[dict]:
        """``docker inspect`` of the project's containers (running or not), oldest first."""
        label = f"label=com.docker.compose.project={self.project}"
        ids = self.daemon.docker("ps", "-a", "-q", "--no-trunc", "--filter", label).stdout.split()
        if not ids:
            return []
        found = json.loads(self.daemon.docker("inspect", *ids).stdout)
        if service:
            found = [c for c in found if c["Config"]["Labels"].get("com.docker.compose.service") == service]
        return sorted(found, key=lambda c: c["Created"])

    def running(self, service: str) -> list[dict]:
        return [c for c in self.containers(service) if c["State"]["Status"] == "running"]

    @staticmethod
    def address(container: dict) -> str:
        return next(iter(container["NetworkSettings"]["Networks"].values()))["IPAddress"]

    def exec(self, container: str, *command: str, input: str | None = None, timeout: float = 120,
             check: bool = True) -> subprocess.CompletedProcess:
        args = ["exec", "-i", container, *command] if input is not None else ["exec", container, *command]
        return self.daemon.docker(*args, input=input, timeout=timeout, check=check)

    def _helper(self) -> str:
        """A running container of the app's image that the tests do not kill: the job worker."""
        workers = self.running("worker")
        if not workers:
            raise ComposeFailed(f"no worker container is running\n{self.diagnose()}")
        return workers[0]["Id"]

    def manage(self, *args: str, timeout: float = 300) -> str:
        """``python manage.py ...`` in the app's image, with the app's settings (through PgBouncer)."""
        result = self.exec(self._helper(), "python", "manage.py", *args, timeout=timeout, check=False)
        if result.returncode:
            raise ComposeFailed(f"manage.py {' '.join(args)} failed: {result.stdout[-2000:]}{result.stderr[-3000:]}")
        return result.stdout

    def sql(self, query: str, params=()) -> list[list]:
        """Rows of one query on the primary, run by the app's database user from inside the stack."""
        script = ("import json\nfrom django.db import connection\n"
                  f"with connection.cursor() as cursor:\n    cursor.execute({query!r}, {json.dumps(list(params))})\n"
                  "    print('@@rows@@' + json.dumps(cursor.fetchall(), default=str))\n")
        output = self.exec(self._helper(), "python", "manage.py", "shell", input=script, timeout=120).stdout
        return json.loads(output.split("@@rows@@", 1)[1])

    def haproxy_stats(self) -> dict[str, dict[str, str]]:
        """backend/server -> HAProxy's statistics row (status UP, DOWN, MAINT...; addr; scur), read on the
        compose network (the stats listener is not published)."""
        script = ("import csv, io, json, urllib.request\n"
                  "body = urllib.request.urlopen('http://haproxy:8404/;csv', timeout=5).read().decode()\n"
                  "rows = csv.DictReader(io.StringIO(body.removeprefix('# ')))\n"
                  "print(json.dumps({f\"{r['pxname']}/{r['svname']}\": r for r in rows "
                  "if r['svname'] not in ('FRONTEND', 'BACKEND')}))\n")
        return json.loads(self.exec(self._helper(), "python", "-c", script, timeout=30).stdout)

    def logs(self, container: str, tail: int = 40) -> str:
        result = self.daemon.docker("logs", "--tail", str(tail), container, check=False, timeout=30)
        return (result.stdout or "") + (result.stderr or "")

    def diagnose(self) -> str:
        """What each container is doing, and the last lines of those that are not running or not healthy."""
        try:
            containers = self.containers()
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not hide the failure it explains
            return f"(no container list: {exc})"
        lines = []
        for c in containers:
            state = c["State"]
            health = state.get("Health", {}).get("Status", "")
            lines.append(f"{c['Name'].lstrip('/')}: {state['Status']} exit={state['ExitCode']} {health}")
            if state["Status"] != "running" or health == "unhealthy":
                lines.append("  " + self.logs(c["Id"], 15).strip().replace("\n", "\n  "))
        return "\n".join(lines)


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
