"""Start gunicorn the way production runs it (on loopback, without TLS) and watch its CPU."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
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

    def stop(self) -> None:
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


def postgres_processes(database: str) -> list[psutil.Process]:
    """The local PostgreSQL processes that work for us: our database's backends plus the shared
    background processes (WAL writer, checkpointer, ...). Empty when the server is not local."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s OR backend_type <> 'client backend'", [database]
        )
        pids = [row[0] for row in cursor.fetchall()]
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class CpuMeter:
    """CPU seconds used by a changing set of processes between two readings."""

    def __init__(self):
        self.start: dict[int, float] = {}
        self.created: dict[int, float] = {}

    @staticmethod
    def _cpu(process: psutil.Process) -> float | None:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None

    def begin(self, processes: list[psutil.Process]) -> None:
        self.start = {}
        for process in processes:
            value = self._cpu(process)
            if value is not None:
                self.start[process.pid] = value

    def end(self, processes: list[psutil.Process]) -> float:
        """CPU seconds since begin(); a process that appeared meanwhile counts from zero."""
        used = 0.0
        for process in processes:
            value = self._cpu(process)
            if value is not None:
                used += value - self.start.get(process.pid, 0.0)
        return used
