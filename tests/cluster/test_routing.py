"""Routing on the real standby: reports come from it, a customer's reads after their write do not.

Replay is paused on the standby, so it lags for as long as the test wants: a staff deposit's audit
record is then missing from /audit/ (read from the standby) until replay resumes, while the
customer who just paid sees the payment in their statement and balance at once (the primary).
"""

import json

from cluster.topology import wait_for

from .client import login, request
from .conftest import STAFF, sql


def test_reports_read_the_standby_and_customers_read_their_writes(cluster, customers):
    port = cluster.ports["http"]
    alice, a = customers["alice"]
    _, b = customers["bob"]
    staff = login(port, *STAFF)
    wait_for(lambda: cluster.sync_standby() is not None, 60, "a synchronous standby")
    standby = cluster.sync_standby()
    cluster.wait_haproxy_pg()

    def newest_audit_id():
        status, body, _ = request(port, "GET", "/audit/?page_size=1", headers=staff)
        assert status == 200, body
        results = json.loads(body)["results"]
        return results[0]["id"] if results else None

    sql(cluster, "SELECT pg_wal_replay_pause()", node=standby)
    try:
        before = newest_audit_id()
        status, body, _ = request(port, "POST", f"/accounts/{b['JOD']}/deposit/", {"amount": "5.000"}, staff)
        assert status == 201, body
        # Acknowledged (the standby flushed the WAL) but not replayed: the report does not show it yet.
        assert newest_audit_id() == before, "/audit/ was read from the primary"

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
    finally:
        sql(cluster, "SELECT pg_wal_replay_resume()", node=standby)
    wait_for(lambda: newest_audit_id() != before, 30, "the report to catch up once replay resumes")
