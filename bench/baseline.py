"""Raw-PostgreSQL baseline: the external transfer as bare SQL from C concurrent connections.

Per transfer, the statements an application that knew exactly what to send would use, one
round trip each: lock both accounts in account-number order (``FOR NO KEY UPDATE``), update the
two balances (the sender's with its daily limit counter, as the API does), insert the transaction row, insert its four ledger legs (principal and 1 % fee to
the fee house account) in one statement, commit. The database's own checks run as for the API:
the deferred zero-sum trigger, the foreign keys and the balance check constraint. Each thread
moves money only among its own accounts, as in the ``transfers`` scenario, so nothing waits on
a lock held by another thread. Run from the driver's Python threads with psycopg 3 (which drops
the GIL while waiting; server-side binding, statements prepared after 5 uses, like the app), so
the client's own CPU is part of the picture, as for the API.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg

from .load import latency_summary
from .seed import Cohort

LOCK = ("SELECT account_number, balance FROM api_account WHERE account_number = ANY(%s) "
        "ORDER BY account_number FOR NO KEY UPDATE")
DEBIT = ("UPDATE api_account SET balance = %s, spent_amount = CASE WHEN spent_on = %s THEN spent_amount ELSE 0 END + %s, "
         "spent_on = %s, updated_at = %s WHERE account_number = %s")
CREDIT = "UPDATE api_account SET balance = %s, updated_at = %s WHERE account_number = %s"
INSERT_TXN = (
    "INSERT INTO api_transaction (id, kind, status, sender_account_id, receiver_account_id, amount, currency, "
    "fee_amount, credited_amount, credited_currency, fx_rate, sender_balance_after, receiver_balance_after, "
    "description, idempotency_key, initiated_by_id, reverses_id, created_at) "
    "VALUES (%s, 'external', 'SUCCESS', %s, %s, %s, 'JOD', %s, %s, 'JOD', NULL, %s, NULL, 'bench baseline', NULL, %s, "
    "NULL, %s)"
)
INSERT_LEGS = (
    "INSERT INTO api_ledgerentry (transaction_id, account_id, amount, currency, purpose, balance_after, created_at) "
    "VALUES (%s, %s, %s, 'JOD', 'principal', %s, %s), (%s, %s, %s, 'JOD', 'principal', %s, %s), "
    "(%s, %s, %s, 'JOD', 'fee', %s, %s), (%s, %s, %s, 'JOD', 'fee', NULL, %s)"
)
FEE_RATE = Decimal("0.01")
MILLS = Decimal("0.001")


def _connect(settings: dict):
    return psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
                           host=settings["HOST"] or None, port=settings["PORT"] or None)


def run(*, cohort: Cohort, concurrency: int, duration: float, warmup: float, max_requests: int,
        fee_account: str, settings: dict, on_window_start=None) -> dict:
    groups = [cohort.baseline[i::concurrency] for i in range(concurrency)]
    if min(len(g) for g in groups) < 2:
        raise ValueError("need at least two baseline customers per connection")
    owners = {c.accounts["JOD"]: c.user_id for c in cohort.baseline}
    issued = itertools.count()
    go = threading.Event()
    window = {"start": 0.0, "deadline": 0.0}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    done = [0] * concurrency
    errors: list[Counter] = [Counter() for _ in range(concurrency)]
    conns = [_connect(settings) for _ in range(concurrency)]

    from api.bankday import bank_day  # Django is set up by the time the baseline runs

    def loop(index: int) -> None:
        import random

        rng = random.Random(f"baseline:{index}")
        numbers = [c.accounts["JOD"] for c in groups[index]]
        conn = conns[index]
        cur = conn.cursor()
        go.wait()
        while True:
            started = time.perf_counter()
            if started >= window["deadline"] or next(issued) >= max_requests:
                break
            sender, receiver = rng.sample(numbers, 2)
            amount = (Decimal(rng.randint(100, 999)) / 100).quantize(MILLS)
            fee = (amount * FEE_RATE).quantize(MILLS, rounding=ROUND_HALF_UP)
            now = datetime.now(UTC)
            today = bank_day(now)
            txn = uuid.uuid4()
            try:
                cur.execute(LOCK, [sorted((sender, receiver))])
                balances = dict(cur.fetchall())
                after_principal = balances[sender] - amount
                after_fee = after_principal - fee
                after_receiver = balances[receiver] + amount
                cur.execute(DEBIT, [after_fee, today, amount, today, now, sender])
                cur.execute(CREDIT, [after_receiver, now, receiver])
                cur.execute(INSERT_TXN, [txn, sender, receiver, amount, fee, amount, after_fee, owners[sender], now])
                cur.execute(INSERT_LEGS, [
                    txn, sender, -amount, after_principal, now,
                    txn, receiver, amount, after_receiver, now,
                    txn, sender, -fee, after_fee, now,
                    txn, fee_account, fee, now,
                ])
                conn.commit()
            except psycopg.Error as exc:
                conn.rollback()
                if started >= window["start"]:
                    errors[index][exc.sqlstate or type(exc).__name__] += 1
                continue
            if started >= window["start"]:
                latencies[index].append(time.perf_counter() - started)
                done[index] += 1
        cur.close()

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    window["start"] = begin + warmup
    window["deadline"] = window["start"] + duration
    go.set()
    time.sleep(max(0.0, window["start"] - time.perf_counter()))
    if on_window_start:
        on_window_start()
    for thread in threads:
        thread.join(timeout=duration + warmup + 60)
    elapsed = time.perf_counter() - window["start"]
    for conn in conns:
        conn.close()
    total_errors = sum(errors, Counter())
    ok = sum(done)
    return {
        "ops": ok,
        "seconds": round(elapsed, 3),
        "ops_per_s": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "latency": latency_summary([v for per in latencies for v in per]),
        "errors": dict(total_errors),
    }
