"""The four HTTP scenarios. Each is a function ``(worker index, rng) -> Request``.

1. ``transfers``: external transfers between disjoint random accounts. The customers are split
   into C groups and client *i* only moves money inside group *i*, so no two in-flight transfers
   ever want the same row lock: this measures the transfer path, not lock waits. 90 % same
   currency, 10 % cross-currency (FX legs), amounts 1.00-9.99, each with an ``Idempotency-Key``.
2. ``hotpair``: every client transfers between the same two accounts A and B, both directions at
   random: the worst case for row locks (and, with the wrong lock order, for deadlocks).
3. ``reads``: the account list and the first statement page (20 lines) of random customers.
4. ``mix``: logins, transfers between random customers (contention possible), bill payments
   (some converting from USD/EUR), reads, and a few deliberate refusals (transfers to an account that
   does not exist: 422 ``receiver_not_found``, after the sender's lock).
"""

from __future__ import annotations

import json
from decimal import Decimal

from .load import Movement, Recorder, Request, body_json
from .seed import CURRENCIES, Cohort, Customer

PLACES = {"JOD": Decimal("0.001"), "USD": Decimal("0.01"), "EUR": Decimal("0.01")}
# Mix weights (percent). A login costs ~0.25 s of CPU (PBKDF2, 1,000,000 iterations) on this
# machine, as much as ~100 transfers, so logins are kept to one request in a hundred.
MIX = {"accounts": 30, "statement": 25, "billers": 5, "transfer": 25, "bill": 12, "refused": 2, "login": 1}
# A well-formed account number (check digit right) that is never issued: issued ones never start with 0.
NO_SUCH_ACCOUNT = "000000000000"


def _amount(rng, currency: str, low: int = 100, high: int = 999) -> str:
    """A random amount of low..high hundredths, written with the currency's minor units."""
    return str((Decimal(rng.randint(low, high)) / 100).quantize(PLACES[currency]))


def _auth(customer: Customer, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {customer.token}", "Content-Type": "application/json",
               "Accept": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _key(rng) -> str:
    return f"bench-{rng.getrandbits(96):024x}"


def _record_transfer(data: bytes, rec: Recorder) -> None:
    body = body_json(data)
    debit = Decimal(body["amount"]) + Decimal(body["fee_amount"])
    rec.movements.append(Movement(
        kind="transfer", id=body["id"], key=body.get("idempotency_key"),
        deltas=((body["sender_account"], -debit), (body["receiver_account"], Decimal(body["credited_amount"]))),
    ))


def _record_bill(data: bytes, rec: Recorder) -> None:
    body = body_json(data)
    rec.movements.append(Movement(kind="bill", id=body["id"], key=None,
                                  deltas=((body["account"], -Decimal(body["debited_amount"])),)))


def transfer_request(rng, sender: Customer, sender_currency: str, receiver_number: str, amount: str,
                     *, label: str = "transfer", expect_refusal: bool = False) -> Request:
    key = _key(rng)
    body = {"sender_account": sender.accounts[sender_currency], "receiver_account": receiver_number,
            "amount": amount, "description": "bench"}
    return Request(
        label=label, method="POST", path="/transfers/external/", body=json.dumps(body).encode(),
        headers=_auth(sender, key), key=key,
        ok=() if expect_refusal else (201,), refusals=(422,) if expect_refusal else (),
        on_success=None if expect_refusal else _record_transfer,
    )


def _pick_pair(rng, pool: list[Customer]) -> tuple[Customer, Customer]:
    sender = pool[rng.randrange(len(pool))]
    receiver = sender
    while receiver is sender:
        receiver = pool[rng.randrange(len(pool))]
    return sender, receiver


def _currencies(rng) -> tuple[str, str]:
    source = CURRENCIES[rng.randrange(3)]
    target = source if rng.random() < 0.9 else CURRENCIES[rng.randrange(3)]
    return source, target


def transfers(cohort: Cohort, concurrency: int):
    groups = [cohort.customers[i::concurrency] for i in range(concurrency)]
    if min(len(g) for g in groups) < 2:
        raise ValueError("need at least two customers per client for disjoint transfers")

    def next_request(worker: int, rng) -> Request:
        sender, receiver = _pick_pair(rng, groups[worker])
        source, target = _currencies(rng)
        return transfer_request(rng, sender, source, receiver.accounts[target], _amount(rng, source))

    return next_request


def hotpair(cohort: Cohort, concurrency: int):
    a, b = cohort.hot_pair

    def next_request(worker: int, rng) -> Request:
        sender, receiver = (a, b) if rng.random() < 0.5 else (b, a)
        return transfer_request(rng, sender, "JOD", receiver.accounts["JOD"], _amount(rng, "JOD", 10, 99))

    return next_request


def _read_accounts(customer: Customer) -> Request:
    return Request(label="accounts", method="GET", path="/accounts/", headers=_auth(customer))


def _read_statement(rng, customer: Customer) -> Request:
    number = customer.accounts[CURRENCIES[rng.randrange(3)]]
    return Request(label="statement", method="GET", path=f"/accounts/{number}/transactions/?page_size=20",
                   headers=_auth(customer))


def reads(cohort: Cohort, concurrency: int):
    pool = cohort.customers

    def next_request(worker: int, rng) -> Request:
        customer = pool[rng.randrange(len(pool))]
        return _read_accounts(customer) if rng.random() < 0.5 else _read_statement(rng, customer)

    return next_request


def mix(cohort: Cohort, concurrency: int, billers: list[tuple[int, str]]):
    pool = cohort.customers
    labels = list(MIX)
    cumulative, total = [], 0
    for label in labels:
        total += MIX[label]
        cumulative.append(total)

    def next_request(worker: int, rng) -> Request:
        roll = rng.random() * total
        label = next(label for label, edge in zip(labels, cumulative, strict=True) if roll < edge)
        customer = pool[rng.randrange(len(pool))]
        if label == "accounts":
            return _read_accounts(customer)
        if label == "statement":
            return _read_statement(rng, customer)
        if label == "billers":
            return Request(label="billers", method="GET", path="/billers/", headers=_auth(customer))
        if label == "transfer":
            sender, receiver = _pick_pair(rng, pool)
            source, target = _currencies(rng)
            return transfer_request(rng, sender, source, receiver.accounts[target], _amount(rng, source))
        if label == "refused":
            # Not an overdraft: an amount above any balance needs a second-factor code first (403, step-up).
            sender, _ = _pick_pair(rng, pool)
            return transfer_request(rng, sender, "JOD", NO_SUCH_ACCOUNT, _amount(rng, "JOD"),
                                    label="refused", expect_refusal=True)
        if label == "bill":
            source = "JOD" if rng.random() < 0.8 else CURRENCIES[1 + rng.randrange(2)]
            key = _key(rng)
            biller, currency = billers[rng.randrange(len(billers))]
            body = {"account": customer.accounts[source], "biller": biller,
                    "amount": _amount(rng, currency, 500, 4999), "reference": f"INV-{rng.getrandbits(32):08x}"}
            return Request(label="bill", method="POST", path="/bill/", body=json.dumps(body).encode(),
                           headers=_auth(customer, key), key=key, ok=(201,), on_success=_record_bill)
        body = {"email": customer.email, "password": cohort.password}
        return Request(label="login", method="POST", path="/auth/jwt/create/", body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", "Accept": "application/json"})

    return next_request
