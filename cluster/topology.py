"""The cluster: which processes, on which loopback ports, started and stopped by their PIDs.

Everything lives in one directory (``state.json`` records ports, secrets and PIDs), so ``status``,
``load``, ``failover`` and ``down`` find what ``up`` started, and a test can build its own cluster
in its own temporary directory.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from nexus.keys import PURPOSES

from . import system, templates

ROOT = system.ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def wait_for(condition, timeout: float, what: str, interval: float = 0.2) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is dead for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Cluster:
    def __init__(self, directory: Path, state: dict):
        self.dir = Path(directory)
        self.state = state

    # --- state ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        path = Path(directory) / "state.json"
        if not path.exists():
            raise FileNotFoundError(f"no cluster in {directory} (run `scripts/cluster.py up` first)")
        return cls(Path(directory), json.loads(path.read_text()))

    def save(self) -> None:
        path = self.dir / "state.json"
        path.touch(mode=0o600, exist_ok=True)  # it holds the cluster's passwords
        path.write_text(json.dumps(self.state, indent=2))

    @property
    def ports(self) -> dict:
        return self.state["ports"]

    @property
    def secrets(self) -> dict:
        return self.state["secrets"]

    @property
    def pg_bin(self) -> Path:
        return Path(self.state["pg_bin"])

    @property
    def pg_nodes(self) -> list[dict]:
        return self.state["pg_nodes"]

    @property
    def app_nodes(self) -> list[dict]:
        return self.state["app_nodes"]

    def pid(self, name: str) -> int | None:
        return self.state["pids"].get(name)

    # --- creation --------------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, *, app_nodes: int = 2, pgbouncer: bool = True, workers: int = 2,
               app_env: dict | None = None, log=print) -> Cluster:
        found = system.ensure_all(log)
        directory = Path(directory)
        if (directory / "state.json").exists():
            raise FileExistsError(f"a cluster already runs in {directory} (`scripts/cluster.py down` first)")
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)  # the unprivileged user reaches its own subdirectories through it
        ports = {name: free_port() for name in ("etcd", "etcd_peer", "http", "pg_primary", "pg_replica",
                                                 "haproxy_stats", "pgbouncer", "redis")}
        pg_nodes = [{"name": f"pg{i}", "port": free_port(), "api": free_port(), "dir": str(directory / f"pg{i}"),
                     "data": str(directory / f"pg{i}" / "data")} for i in (1, 2)]
        # Each app node: gunicorn for the REST API, uvicorn beside it for the WebSocket (/ws/), as in production.
        # And a job worker (manage.py run_worker): what committed operations owe, and the schedules.
        app = [{"name": f"app{i}", "port": free_port(), "ws": f"app{i}-ws", "ws_port": free_port(),
                "worker": f"app{i}-worker"} for i in range(1, app_nodes + 1)]
        user = found["user"]
        state = {
            "ports": ports, "pg_nodes": pg_nodes, "app_nodes": app, "pids": {}, "pgbouncer": pgbouncer,
            "workers": workers, "pg_bin": str(found["pg_bin"]), "patroni_python": str(found["patroni_python"]),
            "binaries": found["packages"], "user": user.pw_name if user else None, "app_env": app_env or {},
            "secrets": {name: secrets.token_urlsafe(24) for name in ("postgres", "replicator", "nexus")},
            # Production settings demand a key of its own for every purpose nexus.keys names.
            "app_secrets": {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                            **{name: secrets.token_urlsafe(48) for name in PURPOSES}},
        }
        cluster = cls(directory, state)
        cluster.save()
        return cluster

    # --- processes -------------------------------------------------------------------------------

    def _owned(self, *paths: Path) -> None:
        if self.state["user"]:
            import pwd

            user = pwd.getpwnam(self.state["user"])
            for path in paths:
                for root, dirs, files in os.walk(path):
                    for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                        os.chown(name, user.pw_uid, user.pw_gid)

    def spawn(self, name: str, command: list[str], *, unprivileged: bool, env: dict | None = None,
              cwd: Path | None = None) -> int:
        """Start one process in its own session (so a SIGKILL reaches it whole); log to <dir>/log/<name>.log."""
        logs = self.dir / "log"
        if not logs.exists():
            logs.mkdir()
            self._owned(logs)
        kwargs = {}
        if unprivileged and self.state["user"]:
            import pwd

            user = pwd.getpwnam(self.state["user"])
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                       "HOME": str(self.dir), **(env or {})}
        with open(logs / f"{name}.log", "ab") as out:
            process = subprocess.Popen(command, cwd=cwd or self.dir, env=environment, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                       **kwargs)
        self.state["pids"][name] = process.pid
        self.save()
        return process.pid

    def stop(self, name: str, timeout: float = 30) -> None:
        pid = self.pid(name)
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                wait_for(lambda: not alive(pid), timeout, f"{name} to stop", 0.1)
            except TimeoutError:
                self.kill(name)
            self._reap(pid)
        self.state["pids"].pop(name, None)
        self.save()

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything in its session: no shutdown, no goodbye."""
        pid = self.pid(name)
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_for(lambda: not alive(pid), 10, f"{name} to die", 0.05)
            self._reap(pid)

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    # --- components ------------------------------------------------------------------------------

    def start_etcd(self) -> None:
        data = self.dir / "etcd"
        data.mkdir(exist_ok=True)
        os.chmod(data, 0o700)
        self._owned(data)
        client, peer = self.ports["etcd"], self.ports["etcd_peer"]
        self.spawn("etcd", [self.state["binaries"]["etcd-server"], "--name", "etcd1", "--data-dir", str(data),
                            "--listen-client-urls", f"http://127.0.0.1:{client}",
                            "--advertise-client-urls", f"http://127.0.0.1:{client}",
                            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                            "--initial-cluster", f"etcd1=http://127.0.0.1:{peer}",
                            "--initial-cluster-state", "new", "--log-level", "warn"], unprivileged=True)
        wait_for(lambda: http_get(client, "/health")[0] == 200, 30, "etcd")

    def pg_node(self, name: str) -> dict:
        return next(node for node in self.pg_nodes if node["name"] == name)

    def start_patroni(self, name: str) -> None:
        node = self.pg_node(name)
        node_dir = Path(node["dir"])
        node_dir.mkdir(exist_ok=True)
        os.chmod(node_dir, 0o700)
        (node_dir / "patroni.yml").write_text(templates.patroni(self, node))
        self._owned(node_dir)
        self.spawn(name, [self.state["patroni_python"], "-m", "patroni", str(node_dir / "patroni.yml")],
                   unprivileged=True)

    def patroni_status(self, name: str) -> dict:
        status, body = http_get(self.pg_node(name)["api"], "/patroni")
        return json.loads(body) if status and body.startswith(b"{") else {}

    def role(self, name: str) -> str | None:
        """'primary', 'replica' (streaming) or None, as Patroni's REST API and HAProxy see it."""
        node = self.pg_node(name)
        if http_get(node["api"], "/primary")[0] == 200:
            return "primary"
        if http_get(node["api"], "/replica")[0] == 200:
            return "replica"
        return None

    def primary(self) -> str | None:
        return next((n["name"] for n in self.pg_nodes if self.role(n["name"]) == "primary"), None)

    def cluster_members(self) -> list[dict]:
        for node in self.pg_nodes:
            status, body = http_get(node["api"], "/cluster")
            if status == 200:
                return json.loads(body).get("members", [])
        return []

    def sync_standby(self) -> str | None:
        return next((m["name"] for m in self.cluster_members() if m.get("role") == "sync_standby"
                     and m.get("state") == "streaming"), None)

    def postmaster_pid(self, name: str) -> int | None:
        try:
            return int((Path(self.pg_node(name)["data"]) / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill_pg_node(self, name: str) -> None:
        """The machine is gone: Patroni and its PostgreSQL SIGKILLed together."""
        postmaster = self.postmaster_pid(name)
        self.kill(name)
        if alive(postmaster):
            os.kill(postmaster, signal.SIGKILL)
            wait_for(lambda: not alive(postmaster), 10, "postmaster to die", 0.05)

    def superuser_dsn(self, name: str | None = None, dbname: str = "postgres") -> str:
        port = self.pg_node(name)["port"] if name else self.ports["pg_primary"]
        return (f"host=127.0.0.1 port={port} dbname={dbname} user=postgres password={self.secrets['postgres']} "
                "connect_timeout=3")

    def create_app_database(self) -> None:
        import psycopg

        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'nexus'").fetchone():
                conn.execute(f"CREATE ROLE nexus LOGIN PASSWORD '{self.secrets['nexus']}'")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'nexus'").fetchone():
                conn.execute("CREATE DATABASE nexus OWNER nexus TEMPLATE template0 ENCODING 'UTF8'")

    def start_redis(self) -> None:
        self.spawn("redis", [self.state["binaries"]["redis-server"], "--port", str(self.ports["redis"]),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                             "--dir", str(self.dir)], unprivileged=True)
        wait_for(lambda: self._tcp_open(self.ports["redis"]), 20, "redis")

    def start_haproxy(self) -> None:
        config = self.dir / "haproxy.cfg"
        config.write_text(templates.haproxy(self))
        (self.dir / "haproxy-503.http").write_text(templates.haproxy_503())
        check = subprocess.run([self.state["binaries"]["haproxy"], "-c", "-f", str(config)], capture_output=True,
                               text=True)
        if check.returncode:
            raise RuntimeError(f"haproxy.cfg is invalid: {check.stdout}{check.stderr}")
        self.spawn("haproxy", [self.state["binaries"]["haproxy"], "-db", "-f", str(config)], unprivileged=True)
        wait_for(lambda: http_get(self.ports["haproxy_stats"], "/")[0] == 200, 20, "haproxy")

    def start_pgbouncer(self) -> None:
        folder = self.dir / "pgbouncer"
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)
        (folder / "pgbouncer.ini").write_text(templates.pgbouncer(self))
        (folder / "userlist.txt").write_text(templates.userlist(self))
        self._owned(folder)
        self.spawn("pgbouncer", [self.state["binaries"]["pgbouncer"], str(folder / "pgbouncer.ini")],
                   unprivileged=True)
        wait_for(lambda: self._tcp_open(self.ports["pgbouncer"]), 20, "pgbouncer")

    @staticmethod
    def _tcp_open(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    # --- the app -----------------------------------------------------------------------------------

    def database_url(self, *, pooled: bool | None = None) -> str:
        """How the app reaches the primary: PgBouncer (-> HAProxy -> leader), or libpq multi-host."""
        pooled = self.state["pgbouncer"] if pooled is None else pooled
        password = self.secrets["nexus"]
        if pooled:
            return f"postgres://nexus:{password}@127.0.0.1:{self.ports['pgbouncer']}/nexus"
        hosts = ",".join(f"127.0.0.1:{n['port']}" for n in self.pg_nodes)
        return f"postgres://nexus:{password}@{hosts}/nexus?target_session_attrs=read-write&connect_timeout=3"

    def replica_url(self) -> str:
        return f"postgres://nexus:{self.secrets['nexus']}@127.0.0.1:{self.ports['pg_replica']}/nexus?connect_timeout=3"

    def direct_url(self) -> str:
        """The primary without PgBouncer (migrations hold a session lock; seeding uses COPY-like batches)."""
        return f"postgres://nexus:{self.secrets['nexus']}@127.0.0.1:{self.ports['pg_primary']}/nexus?connect_timeout=3"

    def app_env(self, *, database_url: str | None = None) -> dict:
        env = {
            "DJANGO_SETTINGS_MODULE": "nexus.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: there is no TLS terminator in front of HAProxy here.
            "DJANGO_SECURE_SSL_REDIRECT": "False",
            "DATABASE_URL": database_url or self.database_url(),
            "DATABASE_REPLICA_URL": self.replica_url(),
            "DATABASE_TRANSACTION_POOLING": "true" if self.state["pgbouncer"] else "false",
            "REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "TRUSTED_PROXIES": "127.0.0.1/32",
            # The load generator is one client IP with few users: throttles would measure themselves.
            "THROTTLE_USER": self.state.get("throttle_user", "1000000/min"),
            "THROTTLE_ANON": self.state.get("throttle_anon", "1000000/min"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.state["app_secrets"],
        }
        return {**env, **self.state.get("app_env", {})}

    def manage(self, *args: str, database_url: str | None = None, timeout: float = 600) -> str:
        env = {**os.environ, **self.app_env(database_url=database_url or self.direct_url())}
        env = {k: v for k, v in env.items() if not k.startswith("PYTEST")}
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        return result.stdout

    def app_node(self, name: str) -> dict:
        return next(n for n in self.app_nodes if n["name"] == name)

    def start_app(self, name: str) -> None:
        node = self.app_node(name)
        command = [sys.executable, "-m", "gunicorn", "nexus.wsgi:application", "--bind", f"127.0.0.1:{node['port']}",
                   "--workers", str(self.state["workers"]), "--timeout", "60", "--graceful-timeout", "10",
                   "--keep-alive", "75", "--backlog", "2048", "--name", f"nexus-{name}"]
        if (ROOT / "gunicorn.conf.py").exists():  # the project's request-size limits, where it has them
            command += ["--config", str(ROOT / "gunicorn.conf.py")]
        self.spawn(name, command, unprivileged=False, env=self.app_env(), cwd=ROOT)

    def start_ws(self, name: str) -> None:
        """The node's uvicorn serving ``nexus.asgi`` for /ws/ (the channel layer on Redis: REDIS_URL)."""
        node = self.app_node(name)
        # uvicorn logs each handshake's path at info, the ?token= access token with it: warnings only.
        command = [sys.executable, "-m", "uvicorn", "nexus.asgi:application", "--host", "127.0.0.1",
                   "--port", str(node["ws_port"]), "--no-access-log", "--log-level", "warning",
                   "--timeout-graceful-shutdown", "5"]
        self.spawn(node["ws"], command, unprivileged=False, env=self.app_env(), cwd=ROOT)

    def start_worker(self, name: str) -> None:
        """The node's job worker (manage.py run_worker), with the node's settings (through PgBouncer)."""
        node = self.app_node(name)
        self.spawn(node["worker"], [sys.executable, "manage.py", "run_worker"], unprivileged=False,
                   env=self.app_env(), cwd=ROOT)

    def wait_app(self, name: str, timeout: float = 90) -> None:
        node = self.app_node(name)
        self._wait_healthy(name, node["port"], timeout)

    def wait_ws(self, name: str, timeout: float = 90) -> None:
        node = self.app_node(name)
        self._wait_healthy(node["ws"], node["ws_port"], timeout)

    def _wait_healthy(self, process: str, port: int, timeout: float) -> None:
        pid = self.pid(process)

        def healthy():
            if not alive(pid):
                raise RuntimeError(f"{process} exited; see {self.dir / 'log' / (process + '.log')}")
            return http_get(port, "/health/")[0] == 200

        wait_for(healthy, timeout, f"app process {process}")

    def haproxy_stats(self) -> dict[str, dict[str, str]]:
        """backend/server -> HAProxy's statistics row (``status``: UP, DOWN...; ``scur``: open sessions)."""
        status, body = http_get(self.ports["haproxy_stats"], "/;csv")
        rows = csv.DictReader(io.StringIO(body.decode().removeprefix("# ")))
        return {f"{row['pxname']}/{row['svname']}": row for row in rows
                if row["svname"] not in ("FRONTEND", "BACKEND")}

    def haproxy_servers(self) -> dict[str, str]:
        """backend/server -> HAProxy's view (UP, DOWN, ...)."""
        return {server: row["status"] for server, row in self.haproxy_stats().items()}

    def wait_haproxy_pg(self, timeout: float = 30) -> None:
        """Until HAProxy's checks agree with Patroni (servers start UP, before their first check fails)."""
        def settled():
            primary = self.primary()
            states = self.haproxy_servers()
            return primary is not None and all(
                states.get(f"pg_primary/{n['name']}") == ("UP" if n["name"] == primary else "DOWN")
                and states.get(f"pg_standbys/{n['name']}") == ("DOWN" if n["name"] == primary else "UP")
                for n in self.pg_nodes)

        wait_for(settled, timeout, "HAProxy to route to the primary and the standby")

    # --- whole cluster ---------------------------------------------------------------------------

    def up(self, log=print) -> None:
        started = time.monotonic()
        log(f"cluster directory: {self.dir}")
        self.start_etcd()
        first, second = (n["name"] for n in self.pg_nodes)
        self.start_patroni(first)
        wait_for(lambda: self.role(first) == "primary", 120, f"{first} to bootstrap as primary")
        self.start_patroni(second)
        wait_for(lambda: self.role(second) == "replica" and self.sync_standby() == second, 120,
                 f"{second} to stream as the synchronous standby")
        log(f"PostgreSQL: {first} primary, {second} synchronous standby (Patroni + etcd)")
        self.start_redis()
        self.start_haproxy()
        self.wait_haproxy_pg()
        self.create_app_database()
        if self.state["pgbouncer"]:
            self.start_pgbouncer()
        self.manage("migrate_locked", "-v", "0")
        for node in self.app_nodes:
            self.start_app(node["name"])
            self.start_ws(node["name"])
            self.start_worker(node["name"])
        for node in self.app_nodes:
            self.wait_app(node["name"])
            self.wait_ws(node["name"])
        wait_for(lambda: all(self.haproxy_servers().get(f"{backend}/{n['name']}") == "UP" for n in self.app_nodes
                             for backend in ("app_nodes", "ws_nodes")), 30, "HAProxy to see every app node")
        log(f"up in {time.monotonic() - started:.1f} s: http://127.0.0.1:{self.ports['http']}/ "
            f"({len(self.app_nodes)} app nodes behind HAProxy, each gunicorn + uvicorn for /ws/ + a job worker)")

    def down(self) -> None:
        app_processes = [n[process] for n in self.app_nodes for process in ("worker", "ws", "name") if process in n]
        for name in [*app_processes, "pgbouncer", "haproxy", "redis"]:
            self.stop(name)
        for node in self.pg_nodes:
            self.stop(node["name"], timeout=60)
            postmaster = self.postmaster_pid(node["name"])
            if alive(postmaster):
                os.kill(postmaster, signal.SIGKILL)
        self.stop("etcd")

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
