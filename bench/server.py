"""Start gunicorn the way production runs it (on loopback, without TLS) and watch its CPU."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from . import counters
from .env import ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_workers() -> int:
    """cores + 1 sync workers (3 on the reference 2-core machine).

    Measured on 2 cores (bench/README.md): 2, 3, 4 and 5 sync workers and 2 gthread workers x 4
    threads all saturate the CPU; fewer processes switch less, 2 x cores + 1 did not do better
    and a single slow request (a login costs ~0.25 s of CPU) stalls a third, not half, of 3.
    """
    return (os.cpu_count() or 1) + 1


@dataclass
class Gunicorn:
    port: int
    workers: int
    worker_class: str
    threads: int
    log_path: Path
    counters_path: Path
    extra_env: dict | None = None
    process: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None  # the job worker beside it (contract v1.3: reactions are jobs)

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "nexus.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", self.worker_class,
            "--threads", str(self.threads),
            "--config", str(ROOT / "bench" / "gunicorn_conf.py"),
            # Longer than any pause between scenarios, so a kept-alive connection is never
            # closed under a client that is about to reuse it.
            "--keep-alive", "75",
            "--timeout", "120",
            "--graceful-timeout", "10",
            "--backlog", "2048",
        ]

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for /health/ to answer 200; return the seconds it took."""
        counters.create(self.counters_path)
        env = {**os.environ, "BENCH_COUNTERS": str(self.counters_path), "PYTHONUNBUFFERED": "1",
               **(self.extra_env or {})}
        started = time.perf_counter()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        # What each transfer owes (notifications, the business fact, risk screening) is carried out by a job
        # worker, as production runs one: its CPU is part of a transfer's cost (worker_pct).
        self.worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=env,
                                       stdout=self._log, stderr=subprocess.STDOUT)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            if self._healthy() and self._workers_ready():
                return time.perf_counter() - started
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy within {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/health/")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def _workers_ready(self) -> bool:
        """Every worker has loaded the app (its counter slot is filled in post_worker_init)."""
        data = self.counters_path.read_bytes()
        size = len(data) // counters.SLOTS
        return sum(1 for slot in range(counters.SLOTS) if data[slot * size: slot * size + 8] != b"\0" * 8) >= self.workers

    def processes(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            master = psutil.Process(self.process.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_processes(self) -> list[psutil.Process]:
        try:
            return [psutil.Process(self.worker.pid)] if self.worker is not None else []
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        self._stop_server()
        if self.worker is not None and self.worker.poll() is None:  # after gunicorn: no new jobs by then
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        self.worker = None

    def _stop_server(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        self._log.close()


@dataclass
class Granian(Gunicorn):
    """granian (a Rust HTTP server) serving the same WSGI application with as many worker processes, one
    blocking thread each, like gunicorn's sync workers: ``--server granian``, an experiment the app does not
    ship (issue 23). gunicorn's hooks do not run here, so the SQL and request counters stay empty."""

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--blocking-threads", str(self.threads), "--backlog", "2048",
                "--no-ws", "nexus.wsgi:application"]

    def _workers_ready(self) -> bool:
        children = len(self.processes()) - 1
        return children >= self.workers


class PostgresProcesses:
    """The local PostgreSQL processes that work for us: our database's backends (PostgreSQL names
    them ``postgres: <user> <database> ...``) and the shared background processes (WAL writer,
    checkpointer, ...). Other databases' backends on the same server are left out. Finds nothing
    when the server is not on this machine (``DATABASE_URL`` elsewhere)."""

    BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum launcher", "io worker",
                  "logical replication launcher", "walsummarizer")

    def __init__(self, database: str):
        from django.db import connection

        self.database = database
        self.postmaster = None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            self.postmaster = psutil.Process(pid).parent()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self.postmaster = None

    def __call__(self) -> list[psutil.Process]:
        if self.postmaster is None:
            return []
        found = []
        try:
            children = self.postmaster.children()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []
        for child in children:
            try:
                title = " ".join(child.cmdline())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if f" {self.database} " in f"{title} " or any(name in title for name in self.BACKGROUND):
                found.append(child)
        return found


class CpuMeter:
    """CPU seconds used by a changing set of processes over a window.

    A sampler thread re-discovers the processes every ``interval`` seconds and remembers each
    one's latest CPU time, so a process that exits mid-window (a database connection recycled by
    ``CONN_MAX_AGE``) still counts up to its last sample, and one that starts mid-window counts
    from zero.
    """

    def __init__(self, discover, interval: float = 0.25):
        self.discover = discover
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _cpu(process: psutil.Process) -> float | None:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None

    def _sample(self, initial: bool = False) -> None:
        for process in self.discover():
            value = self._cpu(process)
            if value is None:
                continue
            key = (process.pid, process.create_time())
            self.first.setdefault(key, value if initial else 0.0)
            self.last[key] = value

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def begin(self) -> None:
        self.first, self.last = {}, {}
        self._sample(initial=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()

    def end(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()
        return sum(self.last[key] - self.first[key] for key in self.last)
