"""Routing on the real standby: reports come from it, a customer's reads after their write do not.

Replay is paused on the standby, so it lags for as long as the test wants: a staff deposit's audit
record is then missing from /audit/ (read from the standby) until replay resumes, while the
customer who just paid sees the payment in their statement and balance at once (the primary).
"""

import json
import urllib.request
from contextlib import contextmanager

from cluster.topology import http_get, wait_for

from .client import login, request
from .conftest import STAFF, sql


def _patroni_paused(cluster, on: bool) -> None:
    """Patroni's maintenance mode on or off, acknowledged by every member."""
    api = cluster.pg_nodes[0]["api"]
    patch = urllib.request.Request(f"http://127.0.0.1:{api}/config", data=json.dumps({"pause": on}).encode(),
                                   method="PATCH", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(patch, timeout=5).read()  # noqa: S310

    def acknowledged():
        statuses = [http_get(node["api"], "/patroni") for node in cluster.pg_nodes]
        return all(status == 200 and bool(json.loads(body).get("pause")) == on for status, body in statuses)

    wait_for(acknowledged, 30, f"Patroni's maintenance mode {'on' if on else 'off'}", 0.1)


@contextmanager
def replay_paused(cluster, standby: str):
    """The standby receives and flushes WAL (so commits are acknowledged) but does not replay it.

    Patroni resumes a paused replay on its next loop (PostgreSQL 14+: it takes the pause for a
    parameter change's), so its maintenance mode holds it off meanwhile.
    """
    _patroni_paused(cluster, True)
    try:
        sql(cluster, "SELECT pg_wal_replay_pause()", node=standby)
        yield
    finally:
        sql(cluster, "SELECT pg_wal_replay_resume()", node=standby)
        _patroni_paused(cluster, False)


def newest_audit_id(port: int, staff: dict):
    status, body, _ = request(port, "GET", "/audit/?page_size=1", headers=staff)
    assert status == 200, body
    results = json.loads(body)["results"]
    return results[0]["id"] if results else None


def test_reports_read_the_standby_and_customers_read_their_writes(cluster, customers):
    port = cluster.ports["http"]
    alice, a = customers["alice"]
    _, b = customers["bob"]
    staff = login(port, *STAFF)
    wait_for(lambda: cluster.sync_standby() is not None, 60, "a synchronous standby")
    standby = cluster.sync_standby()
    cluster.wait_haproxy_pg()

    with replay_paused(cluster, standby):
        before = newest_audit_id(port, staff)
        status, body, _ = request(port, "POST", f"/accounts/{b['JOD']}/deposit/", {"amount": "5.000"}, staff)
        assert status == 201, body
        # Acknowledged (the standby flushed the WAL) but not replayed: the report does not show it yet.
        assert newest_audit_id(port, staff) == before, "/audit/ was read from the primary"

        status, body, _ = request(port, "POST", "/transfers/external/",
                                  {"sender_account": a["JOD"], "receiver_account": b["JOD"], "amount": "2.000"},
                                  {**alice, "Idempotency-Key": "routing-1"})
        assert status == 201, body
        paid = json.loads(body)
        status, body, _ = request(port, "GET", f"/accounts/{a['JOD']}/transactions/?page_size=5", headers=alice)
        assert status == 200 and paid["id"] in body.decode(), "the statement after a payment came from the standby"
        status, body, _ = request(port, "GET", f"/accounts/{a['JOD']}/", headers=alice)
        assert json.loads(body)["balance"] == paid["sender_balance_after"]
        status, body, _ = request(port, "GET", f"/transfers/{paid['id']}/", headers=alice)
        assert status == 200
    wait_for(lambda: newest_audit_id(port, staff) != before, 30, "the report to catch up once replay resumes")


def test_reports_return_to_the_standby_once_it_is_back(cluster, customers):
    """While the standby is away, HAProxy sends reports to the primary, and each app worker keeps that
    connection (CONN_MAX_AGE). Once the standby is back, HAProxy cuts those sessions, so the next
    report is read from the standby again, not from the primary until the connections age out."""
    port = cluster.ports["http"]
    _, b = customers["bob"]
    staff = login(port, *STAFF)
    wait_for(lambda: cluster.sync_standby() is not None, 60, "a synchronous standby")
    standby = cluster.sync_standby()
    cluster.wait_haproxy_pg()
    cluster.kill_pg_node(standby)
    try:
        wait_for(lambda: cluster.haproxy_servers().get(f"pg_standbys/{standby}") == "DOWN", 20,
                 "HAProxy to mark the standby down")
        for _ in range(12):  # every app worker opens its report connection, to the primary
            newest_audit_id(port, staff)
    finally:
        cluster.start_patroni(standby)
        wait_for(lambda: cluster.sync_standby() == standby, 120, "the standby to stream again", 0.2)
        cluster.wait_haproxy_pg()
    with replay_paused(cluster, standby):
        before = newest_audit_id(port, staff)
        status, body, _ = request(port, "POST", f"/accounts/{b['JOD']}/deposit/", {"amount": "5.000"}, staff)
        assert status == 201, body
        seen = [newest_audit_id(port, staff) for _ in range(8)]  # whichever workers answer
        assert seen == [before] * 8, "a report was read from the primary after the standby came back"
