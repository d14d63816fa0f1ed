"""When the database is away (contract v1.1): a real server on its own embedded PostgreSQL, SIGKILLed.

gunicorn runs on an embedded server in this test's temporary directory (no ``DATABASE_URL``), under
a transfer load and health probes. The postmaster is SIGKILLed mid-load. While it is down every
answer is 201 or 503 ``service_unavailable`` with ``Retry-After`` (never a 500, ``/health/``
included); the app starts the crashed embedded server again by itself, without a restart of
gunicorn; afterwards every acknowledged transfer is there, retried payments applied once, and
``verify_ledger`` passes. The cluster tests do the same through PgBouncer with a PostgreSQL that
Patroni restarts and with a standby that is promoted.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from .client import Load, login, request

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = ("alice@nexus.local", "Alice-Demo-Pass-2026"), ("bob@nexus.local", "Bob-Demo-Pass-2026")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_app(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="nexus.settings.test", EMBEDDED_PG_DATA=str(tmp_path / "pgdata"),
               PYTHONUNBUFFERED="1")
    for args in (["migrate", "--no-input", "-v", "0"], ["seed_demo", "--force"]):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
    port, log = free_port(), tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "nexus.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60"]
    with open(log, "ab") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_until(lambda: health(port) == 200, 60, "gunicorn did not start")
        yield port, tmp_path / "pgdata", env, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        stop_postmaster(tmp_path / "pgdata")


def health(port: int) -> int:
    try:
        return request(port, "GET", "/health/", timeout=5)[0]
    except OSError:
        return 0


def wait_until(condition, timeout: float, message: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(message)


def postmaster(pgdata: Path) -> psutil.Process | None:
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, psutil.Error):
        return None
    return process if process.name() == "postgres" else None


def stop_postmaster(pgdata: Path) -> None:
    process = postmaster(pgdata)
    if process is not None:
        process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            process.wait(30)
        except psutil.TimeoutExpired:
            process.kill()


def accounts(port: int, headers: dict) -> dict[str, str]:
    status, body, _ = request(port, "GET", "/accounts/", headers=headers)
    assert status == 200, body
    return {a["currency"]: a["account_number"] for a in json.loads(body)["results"]}


def test_sigkilled_embedded_postgres_answers_503_then_comes_back_by_itself(embedded_app):
    port, pgdata, env, log = embedded_app
    alice, bob = login(port, *ALICE), login(port, *BOB)
    a, b = accounts(port, alice), accounts(port, bob)
    load = Load(port, payers=[(alice, a["JOD"], b["JOD"], "1.000"), (bob, b["USD"], a["USD"], "1.00")],
                threads=4).start("away")
    wait_until(lambda: len(load.acknowledged) >= 20, 60, "the load never got going")
    old = postmaster(pgdata)
    old.kill()  # SIGKILL: no shutdown, no checkpoint; in-flight transactions are lost uncommitted
    killed_at = time.monotonic() - load.started
    answers = []
    # While it is down (and until it is back), probes answer 503 with Retry-After, never 500.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body, headers = request(port, "GET", "/health/", timeout=10)
        answers.append(status)
        if status == 503:
            assert json.loads(body)["error"]["code"] == "service_unavailable"
            assert headers["retry-after"].isdigit()
        if status == 200 and 503 in answers:
            break
        time.sleep(0.05)
    back_after = time.monotonic() - load.started - killed_at
    assert answers[-1] == 200, f"not back within 60 s: {answers[-20:]}"
    # Writes again: new transfers are acknowledged after the restart.
    acknowledged_before = len(load.acknowledged)
    wait_until(lambda: len(load.acknowledged) > acknowledged_before + 10, 60, "no transfer after the restart")
    load.stop()

    # Never held: every request answered within 2 s of its sending while the database was away (503).
    waits = load.waits(killed_at, killed_at + back_after + 1)
    slowest = max(took for _, took, _ in waits)
    assert slowest <= 2.0, sorted(waits, key=lambda w: -w[1])[:5]

    new = postmaster(pgdata)
    assert new is not None and new.pid != old.pid, "the postmaster was not started again"
    assert not load.server_errors(), load.server_errors()[:10]
    refused = [p.answers[-1] for p in load.payments if p.answers and p.answers[-1][0] not in (201, 503, 0)]
    assert not refused, refused[:5]
    during = [s for moment, s in load.timeline if moment >= killed_at]
    assert 503 in during or 0 in during, "the outage was never seen by the load"

    # Every acknowledged payment is there once; answers lost in the outage settle on a retry, once.
    for payment in load.payments:
        status, content, headers = request(port, "POST", payment.path, payment.body, payment.headers)
        assert status == 201, (payment.key, status, content[:200])
        first = load.acknowledged.get(payment.key)
        if first is not None:
            assert json.loads(content) == first and headers.get("idempotent-replayed") == "true"
    verify = subprocess.run([sys.executable, "manage.py", "verify_ledger"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    count = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c",
         "from api.models import Transaction; print(Transaction.objects.filter(kind='external').count())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert int(count.stdout.split()[-1]) == len(load.payments), "a payment applied twice or lost"
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    print(f"embedded PostgreSQL SIGKILLed at {killed_at:.1f} s; every answer within {slowest:.2f} s; /health/ 200 "  # noqa: T201
          f"again {back_after:.1f} s later; answers {dict(load.statuses)}")


def test_after_the_database_restarts_the_job_worker_and_the_pushes_come_back_by_themselves(embedded_app):
    """v1.3: a job worker and a WebSocket server that saw the database SIGKILLed carry on once it is back,
    without a restart of their own: the worker reconnects and carries out what is owed, the channel
    layer's listener LISTENs again, and a socket opened before the kill gets the next push."""
    from websockets.sync.client import connect

    port, pgdata, env, log = embedded_app
    quiet = {**env, "NEXUS_JOBS_EAGER": "false"}  # the reactions are the worker's, as in production
    ws_port = free_port()
    with open(log, "ab") as out:
        worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=quiet, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        uvicorn = subprocess.Popen([sys.executable, "-m", "uvicorn", "nexus.asgi:application", "--host", "127.0.0.1",
                                    "--port", str(ws_port), "--log-level", "warning"], cwd=ROOT, env=quiet,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: health(ws_port) == 200, 60, "uvicorn did not start")
        alice, bob = login(port, *ALICE), login(port, *BOB)
        a, b = accounts(port, alice), accounts(port, bob)
        token = bob["Authorization"].split()[1]
        with connect(f"ws://127.0.0.1:{ws_port}/ws/notifications/?token={token}", open_timeout=10) as socket:
            old = postmaster(pgdata)
            old.kill()
            wait_until(lambda: health(port) == 200, 90, "the database did not come back")
            status = 0
            for _ in range(100):  # the first write after the restart may still meet a dead connection: 503
                status, body, _ = request(port, "POST", "/transfers/external/",
                                          {"sender_account": a["JOD"], "receiver_account": b["JOD"],
                                           "amount": "1.000"}, alice)
                if status == 201:
                    break
                assert status == 503, body
                time.sleep(0.2)
            assert status == 201
            transaction_id = json.loads(body)["id"]
            deadline = time.monotonic() + 30
            pushed = None
            while time.monotonic() < deadline and pushed is None:
                try:
                    message = json.loads(socket.recv(timeout=1))
                except TimeoutError:
                    continue
                if message["data"].get("transaction_id") == transaction_id:
                    pushed = message
            assert pushed is not None and pushed["kind"] == "transfer_in", "no push after the restart"
    finally:
        for process in (worker, uvicorn):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
