"""The primary dies: its whole node (Patroni and PostgreSQL) SIGKILLed under load; Patroni promotes the standby.
(And the lesser case: only PostgreSQL crashes, and its Patroni restarts it in place.)

Every 201 the clients saw is on the new primary (synchronous replication: acknowledged means on
both). While there is no primary, every request is answered 503 within 2 s of its sending (never held,
never 500) and no app node leaves HAProxy's rotation; the app writes again through PgBouncer and HAProxy
without a restart, within a bounded time (measured and printed); the ledger verifies; the old primary
rejoins as the synchronous standby (pg_rewind).
"""

import os
import signal
import threading
import time

from cluster.topology import wait_for

from .checks import app_errors, assert_money_safe, writes_again
from .client import Load

WRITES_AGAIN_WITHIN = 60.0
# Every request is answered within this while there is no primary (503 with Retry-After), never held.
ANSWERED_WITHIN = 2.0


class Rotation:
    """Samples HAProxy's view of the app nodes every 0.1 s: which of them left the rotation, if any."""

    def __init__(self, cluster):
        self.cluster, self.samples, self._stop = cluster, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            servers = self.cluster.haproxy_servers()
            self.samples.append({name: state for name, state in servers.items()
                                 if name.startswith(("app_nodes/", "ws_nodes/"))})
            time.sleep(0.1)

    def stop(self) -> list[dict]:
        self._stop.set()
        self._thread.join(10)
        return [sample for sample in self.samples if set(sample.values()) != {"UP"}]


def test_the_primary_dies_under_load(cluster, customers):
    alice, a = customers["alice"]
    bob, b = customers["bob"]
    old = cluster.primary()
    new = cluster.sync_standby()
    assert old and new, "the cluster is not a primary with a synchronous standby"
    load = Load(cluster.ports["http"], payers=[(alice, a["JOD"], b["JOD"], "1.000"), (bob, b["EUR"], a["EUR"], "1.00")],
                threads=16, retry_pause=0.2).start("primary-dies")
    rotation = None
    try:
        wait_for(lambda: len(load.acknowledged) >= 30, 60, "the load to get going")
        rotation = Rotation(cluster).start()
        cluster.kill_pg_node(old)
        killed_at = time.monotonic() - load.started
        wait_for(lambda: cluster.role(new) == "primary", 60, "the standby to be promoted", 0.1)
        promoted_at = time.monotonic() - load.started
        wait_for(lambda: writes_again(load, killed_at) is not None, WRITES_AGAIN_WITHIN, "the app to write again", 0.05)
        first_write = killed_at + writes_again(load, killed_at)
        before = len(load.acknowledged)
        wait_for(lambda: len(load.acknowledged) >= before + 30, 60, "writes to continue on the new primary")
    finally:
        load.stop()
        left = rotation.stop() if rotation else []
    try:
        assert not load.server_errors(codes=(500,)), f"500s: {load.server_errors(codes=(500,))[:10]}\n{app_errors(cluster)}"
        # From the client's side: while there is no primary, every request is answered 503 at once.
        waits = load.waits(killed_at, first_write)
        first_answer = min(sent + took for sent, took, _ in waits) - killed_at
        slowest = max(took for _, took, _ in waits)
        outage = {status for sent, _, status in waits if sent > killed_at}
        assert outage <= {503, 201}, f"unexpected answers during the outage: {outage}"
        assert slowest <= ANSWERED_WITHIN and first_answer <= ANSWERED_WITHIN, (first_answer, slowest)
        # No app node left HAProxy's rotation: the database was away, the nodes were not.
        assert not left, f"app nodes out of rotation during the failover: {left[:5]}"
        result = assert_money_safe(cluster, load)
    finally:
        # The old primary rejoins as the synchronous standby (pg_rewind), whatever happened above.
        rejoin_started = time.monotonic()
        cluster.start_patroni(old)
        wait_for(lambda: cluster.role(old) == "replica", 120, "the old primary to rejoin as a standby", 0.2)
        wait_for(lambda: cluster.sync_standby() == old, 60, "the old primary to be the synchronous standby", 0.2)
        rejoined = time.monotonic() - rejoin_started
        cluster.wait_haproxy_pg()
    print(f"primary {old} SIGKILLed; first answer after {first_answer:.2f} s, every answer within {slowest:.2f} s "  # noqa: T201
          f"({len(waits)} answers, {sorted(outage)}); {new} promoted after {promoted_at - killed_at:.1f} s; first 201 "
          f"to a request sent after the kill {first_write - killed_at:.1f} s after it; app nodes stayed in rotation "
          f"({len(rotation.samples)} samples); {old} rejoined as synchronous standby in {rejoined:.1f} s; {result}")


def test_the_primary_postgres_crashes_and_patroni_restarts_it(cluster, customers):
    """Only PostgreSQL is SIGKILLed; its Patroni restarts it in place (crash recovery), still primary.

    The app answers 503 meanwhile and writes again through the same PgBouncer, with no restart.
    """
    alice, a = customers["alice"]
    bob, b = customers["bob"]
    primary = cluster.primary()
    load = Load(cluster.ports["http"], payers=[(alice, a["JOD"], b["JOD"], "1.000"), (bob, b["EUR"], a["EUR"], "1.00")],
                threads=4, retry_pause=0.2).start("postgres-crashes")
    try:
        wait_for(lambda: len(load.acknowledged) >= 20, 60, "the load to get going")
        postmaster = cluster.postmaster_pid(primary)
        os.kill(postmaster, signal.SIGKILL)
        killed_at = time.monotonic() - load.started
        wait_for(lambda: cluster.postmaster_pid(primary) not in (None, postmaster), 60, "Patroni to restart it", 0.1)
        wait_for(lambda: writes_again(load, killed_at) is not None, WRITES_AGAIN_WITHIN, "the app to write again", 0.05)
        first_write = killed_at + writes_again(load, killed_at)
        before = len(load.acknowledged)
        wait_for(lambda: len(load.acknowledged) >= before + 20, 60, "writes to continue")
    finally:
        load.stop()
    assert cluster.primary() == primary, "Patroni failed over instead of restarting in place"
    assert not load.server_errors(codes=(500,)), f"500s: {load.server_errors(codes=(500,))[:10]}\n{app_errors(cluster)}"
    result = assert_money_safe(cluster, load)
    wait_for(lambda: cluster.sync_standby() is not None, 60, "the standby to stream again", 0.2)
    print(f"PostgreSQL on {primary} SIGKILLed; restarted by Patroni, first 201 after "  # noqa: T201
          f"{first_write - killed_at:.1f} s; {result}")
