"""The production shape for real: docker-compose.yml up in containers, driven only through HAProxy's published port.

In this order (the last one takes the stack down):
1. ``up``: the migrations ran once, by the one-shot ``migrate`` service; Patroni has a leader and a
   synchronous standby; /health/ answers 200 through HAProxy.
2. The README's curl session passes against it, and a notification is pushed through HAProxy's /ws/.
3. An app container SIGKILLed under load: no acknowledged transfer lost, no 5xx once HAProxy has
   marked it down, retries never pay twice, the ledger verifies.
4. ``docker-compose down -v`` leaves nothing; the test's dockerd stops by its pid, its data root removed.
"""

import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
from websockets.sync.client import connect

from cluster.topology import wait_for
from tests.cluster.checks import assert_money_safe
from tests.cluster.client import Load, request
from tests.nexus.test_readme_session import assert_session_printed, readme_session

GRACE = 1.0  # HAProxy's state is read through `docker exec`: a request sent just before it was read


def test_up_migrates_once_and_answers_health_through_haproxy(stack):
    migrate = stack.containers("migrate")
    assert len(migrate) == 1, [c["Name"] for c in migrate]
    state = migrate[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 0, stack.diagnose()
    assert "Applying api.0001_initial... OK" in stack.logs(migrate[0]["Id"], tail=1000)
    for service in ("app", "ws"):
        replicas = stack.running(service)
        assert len(replicas) == 2, stack.diagnose()
        # Replicas never migrate at start-up: only the one-shot service did.
        assert not any("Applying " in stack.logs(c["Id"], tail=1000) for c in replicas)
    stack.manage("migrate", "--check")  # nothing left to apply
    worker = stack.running("worker")[0]["Id"]

    def roles() -> list[str]:
        cluster = json.loads(stack.exec(worker, "python", "-c", "import urllib.request; print(urllib.request."
                                        "urlopen('http://pg1:8008/cluster', timeout=5).read().decode())").stdout)
        return sorted(member["role"] for member in cluster["members"])

    wait_for(lambda: roles() == ["leader", "sync_standby"], 30, "Patroni's leader and synchronous standby", 1.0)
    status, body, headers = request(stack.port, "GET", "/health/")
    assert status == 200 and json.loads(body)["database"] == "ok", body
    assert headers["server"] == "gunicorn"  # an app replica answered, through HAProxy


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed: the README session needs it")
def test_the_readme_curl_session_passes_through_haproxy(stack):
    result = subprocess.run(["sh", "-s"], input=readme_session(), capture_output=True, text=True, timeout=120,
                            env={"PATH": os.environ["PATH"], "BASE": f"http://127.0.0.1:{stack.port}"})
    # HAProxy passes header names in lower case (HTTP/1.1 names are case-insensitive).
    assert_session_printed(result, header_case=re.IGNORECASE)


def test_a_notification_is_pushed_through_haproxy(stack, customers):
    alice, a = customers["alice"]
    bob, b = customers["bob"]
    token = bob["Authorization"].removeprefix("Bearer ")
    with connect(f"ws://127.0.0.1:{stack.port}/ws/notifications/?token={token}", open_timeout=10) as ws:
        sent = time.monotonic()
        status, body, _ = request(stack.port, "POST", "/transfers/external/",
                                  {"sender_account": a["JOD"], "receiver_account": b["JOD"], "amount": "1.000"},
                                  {**alice, "Idempotency-Key": f"compose-push-{uuid.uuid4()}"})
        assert status == 201, body[:300]
        transfer = json.loads(body)
        while True:  # the push of this transfer (nothing else moves Bob's money meanwhile)
            pushed = json.loads(ws.recv(timeout=max(0.1, sent + 15 - time.monotonic())))
            if pushed["kind"] == "transfer_in" and pushed["data"]["transaction_id"] == transfer["id"]:
                break
    print(f"pushed through HAProxy {time.monotonic() - sent:.2f} s after the POST was sent")  # noqa: T201


def test_an_app_container_killed_under_load(stack, customers):
    alice, a = customers["alice"]
    bob, b = customers["bob"]
    victim = stack.running("app")[0]
    address = f"{stack.address(victim)}:8000"
    slot = next(name for name, row in stack.servers("app_nodes").items() if row["addr"] == address)
    load = Load(stack.port, payers=[(alice, a["JOD"], b["JOD"], "1.000"), (bob, b["USD"], a["USD"], "1.00")],
                threads=4).start(f"compose-kill-{uuid.uuid4()}")
    try:
        wait_for(lambda: len(load.acknowledged) >= 30, 90, "the load to get going")
        stack.daemon.docker("kill", victim["Id"])  # SIGKILL: gunicorn's master and workers at once
        killed_at = time.monotonic() - load.started

        def marked_down() -> bool:  # DOWN by its checks, or MAINT once Docker's DNS no longer has it
            row = stack.haproxy_stats().get(f"app_nodes/{slot}", {})
            return row.get("addr") != address or row.get("status", "").startswith(("DOWN", "MAINT"))

        wait_for(marked_down, 30, "HAProxy to mark the killed replica down", 0.05)
        down_at = time.monotonic() - load.started
        before = len(load.acknowledged)
        wait_for(lambda: len(load.acknowledged) >= before + 30, 90, "the surviving replica to carry the load")
    finally:
        load.stop()
    late = [(moment, status) for moment, status in load.sent if moment > down_at + GRACE and status >= 500]
    assert not late, f"5xx for requests sent after HAProxy marked the replica down: {late[:10]}"
    assert not load.server_errors(codes=(500,)), f"a 500 from the app: {stack.diagnose()}"
    result = assert_money_safe(stack, load, query=stack.sql)
    print(f"app container {victim['Name']} ({slot}) SIGKILLed at {killed_at:.2f} s, marked down "  # noqa: T201
          f"{down_at - killed_at:.2f} s later; {result}")


def test_down_leaves_nothing_running(stack):
    daemon = stack.daemon
    networks = {n["NetworkID"] for c in stack.containers() for n in c["NetworkSettings"]["Networks"].values()}
    assert networks
    stack.down()
    assert not stack.containers()
    assert not [n for n in networks if os.path.exists(f"/sys/class/net/br-{n[:12]}")], "a bridge is left"
    label = f"label=com.docker.compose.project={stack.project}"
    assert not daemon.docker("volume", "ls", "-q", "--filter", label).stdout.split()
    assert not daemon.docker("network", "ls", "-q", "--filter", label).stdout.split()
    assert not daemon.docker("ps", "-a", "-q").stdout.split()
    pid = daemon.pid
    daemon.stop()
    assert daemon.process.returncode is not None, "dockerd still runs"
    assert not os.path.exists(f"/proc/{pid}"), "dockerd's pid is still there"
    assert not daemon.data_root.exists() and not daemon.run_dir.exists()
    assert not daemon.leftovers(), daemon.leftovers()
