"""An app node dies: SIGKILL one gunicorn node (master and workers) under load through HAProxy.

No acknowledged transfer is lost; once HAProxy has marked the node down no client sees a 5xx;
clients that retry with the same Idempotency-Key never pay twice; the ledger verifies.
"""

import time

from cluster.topology import wait_for

from .checks import app_errors, assert_money_safe
from .client import Load

GRACE = 0.5  # HAProxy's state is polled: a request sent just before it was read


def test_an_app_node_dies_under_load(cluster, customers):
    alice, a = customers["alice"]
    bob, b = customers["bob"]
    load = Load(cluster.ports["http"], payers=[(alice, a["JOD"], b["JOD"], "1.000"), (bob, b["USD"], a["USD"], "1.00")],
                threads=4).start("node-dies")
    victim = cluster.app_nodes[0]["name"]
    try:
        wait_for(lambda: len(load.acknowledged) >= 30, 60, "the load to get going")
        cluster.kill(victim)
        killed_at = time.monotonic() - load.started
        wait_for(lambda: cluster.haproxy_servers().get(f"app_nodes/{victim}") == "DOWN", 20,
                 "HAProxy to mark the node down", 0.05)
        down_at = time.monotonic() - load.started
        before = len(load.acknowledged)
        wait_for(lambda: len(load.acknowledged) >= before + 30, 60, "the surviving node to carry the load")
    finally:
        load.stop()
    try:
        _check(cluster, load, victim, killed_at, down_at)
    finally:  # the node comes back whatever the checks said: the next tests need both nodes
        cluster.start_app(victim)
        cluster.wait_app(victim)
        wait_for(lambda: cluster.haproxy_servers().get(f"app_nodes/{victim}") == "UP", 30, "the node back in rotation")


def _check(cluster, load, victim, killed_at, down_at):
    late = [(moment, status) for moment, status in load.sent if moment > down_at + GRACE and status >= 500]
    assert not late, f"5xx for requests sent after HAProxy marked the node down: {late[:10]}"
    assert not load.server_errors(codes=(500,)), f"a 500 from the app: {app_errors(cluster)}"
    result = assert_money_safe(cluster, load)
    print(f"app node {victim} SIGKILLed at {killed_at:.2f} s, marked down {down_at - killed_at:.2f} s later; "  # noqa: T201
          f"{result}")
