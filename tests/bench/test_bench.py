"""The benchmark's own parts: statistics, counters, seeding, the SQL baseline and the invariant checks.

No timing assertions: these prove the harness measures and checks what it claims to.
"""

import json
import random
from decimal import Decimal

import pytest
from django.db import connection

from bench import baseline, counters, invariants, scenarios
from bench.load import Movement, Recorder, percentile
from bench.report import aggregate
from bench.seed import OPENING, mint_tokens, seed


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


@pytest.mark.parametrize("protocol", ["HTTP/1.0", "HTTP/1.1"])
def test_the_load_generators_client_reads_responses_whole(protocol):
    """HTTP/1.0: the server closes after each response; 1.1: the connection is reused."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bench.load import Connection

    class Echo(BaseHTTPRequestHandler):
        protocol_version = protocol

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = json.dumps({"path": self.path, "body": body.decode(), "key": self.headers["Idempotency-Key"]})
            self.send_response(201)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = Connection("127.0.0.1", server.server_address[1], timeout=5)
        for n in range(3):
            status, body = conn.exchange("POST", f"/x/{n}", b'{"a": 1}' * 5000, {"Idempotency-Key": f"k{n}"})
            assert status == 201
            assert json.loads(body) == {"path": f"/x/{n}", "body": '{"a": 1}' * 5000, "key": f"k{n}"}
            assert (conn.sock is None) == (protocol == "HTTP/1.0")
        conn.close()
    finally:
        server.shutdown()


def test_counters_sum_worker_slots(tmp_path):
    path = tmp_path / "counters.bin"
    counters.create(path)
    mapped = counters.open_map(path, write=True)
    counters.write_slot(mapped, 1, [101, 10, 5_000, 70, 2_000, 1, 0, 0, 0])
    counters.write_slot(mapped, 2, [102, 5, 1_000, 30, 500, 0, 0, 0, 2])
    mapped.flush()
    total = counters.read_totals(path)
    assert (total.requests, total.queries, total.deadlocks, total.other_db_errors) == (15, 100, 1, 2)
    assert (total - counters.Totals(requests=5)).requests == 10


def test_aggregate_separates_refusals_from_errors():
    rec = Recorder()
    rec.latencies["transfer"] = [0.010, 0.020]
    rec.statuses.update({("transfer", 201): 1, ("transfer", 500): 1, ("overdraft", 422): 1})
    rec.outcomes.update({("transfer", "ok"): 1, ("transfer", "error"): 1, ("overdraft", "refused"): 1})
    result = aggregate([rec], 2.0)
    assert (result["ok"], result["refused"], result["errors"], result["responses_5xx"]) == (1, 1, 1, 1)
    assert result["ok_per_s"] == 0.5


def _checks(cohort, before, since, movements=(), unknown=()):
    return {c.name: c for c in invariants.run_all(cohort=cohort, before=before, since=since,
                                                  movements=list(movements), unknown_keys=list(unknown))}


@pytest.mark.django_db(transaction=True)
def test_seeded_cohort_is_ledger_consistent():
    from django.utils import timezone

    since = timezone.now()
    before = invariants.money_snapshot()
    cohort = seed(customers=8, baseline=4)
    checks = _checks(cohort, before, since)
    failed = {name: c.detail for name, c in checks.items() if c.ok is False}
    assert not failed
    assert checks["client_model"].detail.startswith("30 balances")  # 10 HTTP customers x 3 currencies
    assert checks["business_metrics"].ok is True, checks["business_metrics"].detail  # 42 deposits, 42 facts
    assert set(cohort.customers[0].accounts) == {"JOD", "USD", "EUR"}
    assert cohort.opening_balances()[cohort.customers[0].accounts["USD"]] == OPENING["USD"]


@pytest.mark.django_db(transaction=True)
def test_invariants_catch_a_tampered_balance_and_a_phantom_acknowledgement():
    from django.utils import timezone

    since = timezone.now()
    before = invariants.money_snapshot()
    cohort = seed(customers=4, baseline=0)
    number = cohort.customers[0].accounts["JOD"]
    with connection.cursor() as cursor:  # bypass the ledger, as a bug would
        cursor.execute("UPDATE api_account SET balance = balance + 1 WHERE account_number = %s", [number])
    phantom = Movement(kind="transfer", id="00000000-0000-0000-0000-000000000001", key=None,
                       deltas=((number, Decimal("-1")),))
    checks = _checks(cohort, before, since, movements=[phantom])
    assert checks["balances_equal_entries"].ok is False
    assert checks["conservation"].ok is False
    assert checks["running_balances"].ok is False
    assert checks["acknowledged"].ok is False
    assert checks["client_model"].ok is False
    assert checks["ledger_zero_sum"].ok is True


@pytest.mark.django_db(transaction=True)
def test_raw_sql_baseline_runs_against_the_real_schema():
    """The baseline's hand-written SQL must keep matching the models (columns, triggers, checks)."""
    from django.utils import timezone

    from api.services.house import house_account_number

    since = timezone.now()
    before = invariants.money_snapshot()
    cohort = seed(customers=2, baseline=4)
    result = baseline.run(cohort=cohort, concurrency=2, duration=0.3, warmup=0.0, max_requests=50,
                          fee_account=house_account_number("fees", "JOD"), settings=connection.settings_dict)
    assert result["errors"] == {}
    assert result["ops"] > 0
    checks = _checks(cohort, before, since)
    assert not {name: c.detail for name, c in checks.items() if c.ok is False}


@pytest.mark.django_db(transaction=True)
def test_disjoint_transfers_stay_inside_each_clients_group():
    cohort = seed(customers=8, baseline=0)
    mint_tokens(cohort)
    next_request = scenarios.transfers(cohort, concurrency=4)
    groups = [{n for c in cohort.customers[i::4] for n in c.accounts.values()} for i in range(4)]
    rng = random.Random(1)
    for worker in range(4):
        for _ in range(20):
            request = next_request(worker, rng)
            body = json.loads(request.body)
            assert {body["sender_account"], body["receiver_account"]} <= groups[worker]
            assert request.headers["Idempotency-Key"]
            places = Decimal(body["amount"]).as_tuple().exponent
            assert places in (-2, -3)
