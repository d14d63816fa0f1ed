"""Invariants checked after the run. Any failure makes the command exit non-zero.

Whole-database checks (every run's data, not only this one's):
  ledger_zero_sum       the legs of every transaction sum to zero per currency
  balances_equal_entries every customer balance equals the sum of its ledger entries
  no_empty_transactions  every transaction has ledger entries
  final_states          no transaction, bill payment or idempotency claim left in a non-final state
  verify_ledger         the project's own ``api.ledger_checks`` (``manage.py verify_ledger``), if present
This run's checks:
  conservation          per currency, customer balances + house accounts (except the cash vault)
                        grew by exactly the deposits made since the run started
  running_balances      for this run's accounts, each entry's balance_after = previous + amount,
                        and the newest one equals the account balance
  acknowledged          every 201 the clients saw is a SUCCESS transaction in the database, with
                        the same accounts and amounts; no other transfer or bill of this cohort
                        exists, except for requests whose outcome the client never learned
  client_model          every account's balance = opening deposit + the movements the clients
                        were told about (201 responses), to the last minor unit
  business_metrics      every posting's business fact equals its recomputation from the transaction
                        row; refusal facts = refusals the clients saw (when the business app exists)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .load import Movement
from .seed import Cohort


@dataclass
class Check:
    name: str
    ok: bool | None  # None: skipped
    detail: str

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _rows(sql: str, params=None, limit: int = 20) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchmany(limit)


def _scalar(sql: str, params=None):
    return _rows(sql, params, 1)[0][0]


def money_snapshot() -> dict[str, Decimal]:
    """Per currency: customer balances + derived balances of house accounts other than the vault."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, total in _rows(
        "SELECT currency, COALESCE(SUM(balance), 0) FROM api_account WHERE role = 'customer' GROUP BY currency", limit=100
    ):
        totals[currency] += total
    for currency, total in _rows(
        "SELECT e.currency, COALESCE(SUM(e.amount), 0) FROM api_ledgerentry e "
        "JOIN api_account a ON a.account_number = e.account_id "
        "WHERE a.role NOT IN ('customer', 'vault') GROUP BY e.currency", limit=100
    ):
        totals[currency] += total
    return dict(totals)


def _whole_db() -> list[Check]:
    checks = []
    bad = _rows("SELECT transaction_id, currency, SUM(amount) FROM api_ledgerentry "
                "GROUP BY transaction_id, currency HAVING SUM(amount) <> 0")
    checks.append(Check("ledger_zero_sum", not bad, f"unbalanced: {bad[:3]}" if bad else "every transaction sums to 0"))
    bad = _rows("SELECT a.account_number, a.balance, COALESCE(SUM(e.amount), 0) FROM api_account a "
                "LEFT JOIN api_ledgerentry e ON e.account_id = a.account_number WHERE a.role = 'customer' "
                "GROUP BY a.account_number, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)")
    accounts = _scalar("SELECT COUNT(*) FROM api_account WHERE role = 'customer'")
    checks.append(Check("balances_equal_entries", not bad,
                        f"mismatched: {bad[:3]}" if bad else f"{accounts} customer accounts match their entries"))
    bad = _rows("SELECT t.id FROM api_transaction t WHERE NOT EXISTS "
                "(SELECT 1 FROM api_ledgerentry e WHERE e.transaction_id = t.id)")
    checks.append(Check("no_empty_transactions", not bad, f"without entries: {bad[:3]}" if bad else "none"))
    states = {
        "transactions": _scalar("SELECT COUNT(*) FROM api_transaction WHERE status NOT IN ('SUCCESS', 'FAILED', 'REVERSED')"),
        "bill_payments": _scalar("SELECT COUNT(*) FROM api_billpayment WHERE status NOT IN ('PAID', 'REVERSED')"),
        "idempotency_claims_without_response": _scalar(
            "SELECT COUNT(*) FROM api_idempotencyrecord WHERE response_status IS NULL"),
    }
    checks.append(Check("final_states", not any(states.values()), ", ".join(f"{k}={v}" for k, v in states.items())))
    try:
        from api.ledger_checks import find_discrepancies
    except ImportError:
        checks.append(Check("verify_ledger", None, "api.ledger_checks not present"))
    else:
        problems = find_discrepancies()
        checks.append(Check("verify_ledger", not problems, problems[0] if problems else "api.ledger_checks: no discrepancy"))
    return checks


def _conservation(before: dict[str, Decimal], since: datetime) -> Check:
    after = money_snapshot()
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for currency, total in _rows(
        "SELECT currency, SUM(amount) FROM api_transaction WHERE kind = 'deposit' AND created_at >= %s "
        "GROUP BY currency", [since], limit=100
    ):
        deposits[currency] += total
    for currency, total in _rows(  # reversed deposits send money back to the vault
        "SELECT r.credited_currency, SUM(r.credited_amount) FROM api_transaction r "
        "JOIN api_transaction o ON o.id = r.reverses_id WHERE o.kind = 'deposit' AND r.created_at >= %s "
        "GROUP BY r.credited_currency", [since], limit=100
    ):
        deposits[currency] -= total
    problems, parts = [], []
    for currency in sorted(set(before) | set(after) | set(deposits)):
        grown = after.get(currency, Decimal(0)) - before.get(currency, Decimal(0))
        parts.append(f"{currency} +{grown}")
        if grown != deposits.get(currency, Decimal(0)):
            problems.append(f"{currency}: grew {grown}, deposits {deposits.get(currency, Decimal(0))}")
    return Check("conservation", not problems, "; ".join(problems) or "grew by the deposits only: " + ", ".join(parts))


def _running_balances(numbers: list[str]) -> Check:
    bad = _rows(
        """
        WITH legs AS (
            SELECT account_id, id, amount, balance_after,
                   LAG(balance_after) OVER (PARTITION BY account_id ORDER BY id) AS previous
              FROM api_ledgerentry WHERE account_id = ANY(%s)
        )
        SELECT account_id, id, previous, amount, balance_after FROM legs
         WHERE balance_after IS NULL OR (previous IS NOT NULL AND previous + amount <> balance_after)
        """, [numbers])
    if not bad:
        bad = _rows(
            """
            SELECT a.account_number, a.balance, last.balance_after FROM api_account a
              JOIN LATERAL (SELECT balance_after FROM api_ledgerentry e WHERE e.account_id = a.account_number
                             ORDER BY e.created_at DESC, e.id DESC LIMIT 1) last ON TRUE
             WHERE a.account_number = ANY(%s) AND last.balance_after <> a.balance
            """, [numbers])
    return Check("running_balances", not bad,
                 f"broken chain: {bad[:3]}" if bad else f"{len(numbers)} accounts: every balance_after chains")


def _acknowledged(cohort: Cohort, movements: list[Movement], unknown_keys: list[str]) -> tuple[Check, list]:
    """Compare what clients were told with what the database holds; return the unexplained extras too."""
    from api.models import BillPayment, LedgerEntry, Transaction

    users = [c.user_id for c in [*cohort.customers, *cohort.hot_pair]]
    in_db = {str(t.id): t for t in Transaction.objects.filter(
        initiated_by_id__in=users, kind__in=["internal", "external", "bill"])}
    bill_txn = dict(BillPayment.objects.filter(account__owner_id__in=users).values_list("id", "transaction_id"))
    problems, seen = [], set()
    for movement in movements:
        txn_id = str(bill_txn.get(_uuid(movement.id), "")) if movement.kind == "bill" else movement.id
        txn = in_db.get(txn_id)
        if txn is None or txn.status != "SUCCESS":
            problems.append(f"acknowledged {movement.kind} {movement.id} not a SUCCESS transaction")
            continue
        seen.add(txn_id)
        if movement.kind == "transfer":
            expected = {(txn.sender_account_id, -(txn.amount + txn.fee_amount)),
                        (txn.receiver_account_id, txn.credited_amount)}
            if set(movement.deltas) != expected:
                problems.append(f"transfer {txn_id}: response {movement.deltas} != database {expected}")
    extras = [t for key, t in in_db.items() if key not in seen]
    unknown = set(unknown_keys)
    unexplained = [t for t in extras if t.idempotency_key not in unknown]
    for txn in unexplained[:5]:
        problems.append(f"transaction {txn.id} ({txn.kind}) in the database but never acknowledged")
    explained = [t for t in extras if t.idempotency_key in unknown]
    extra_deltas = list(LedgerEntry.objects.filter(transaction__in=explained).values_list("account_id", "amount"))
    detail = (f"{len(seen)} acknowledged = {len(seen)} in the database; "
              f"{len(explained)} more from {len(unknown)} requests without a definite answer")
    return Check("acknowledged", not problems, "; ".join(problems[:5]) or detail), extra_deltas


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def _client_model(cohort: Cohort, movements: list[Movement], extra_deltas: list) -> Check:
    from api.models import Account

    expected = {number: opening for number, opening in cohort.opening_balances().items()}
    for number in [n for c in cohort.baseline for n in c.accounts.values()]:
        expected.pop(number)  # moved by the SQL baseline, not by HTTP clients
    for movement in movements:
        for number, delta in movement.deltas:
            if number in expected:
                expected[number] += delta
    for number, amount in extra_deltas:
        if number in expected:
            expected[number] += amount
    actual = dict(Account.objects.filter(pk__in=list(expected)).values_list("pk", "balance"))
    wrong = [(n, str(expected[n]), str(actual.get(n))) for n in expected if actual.get(n) != expected[n]]
    return Check("client_model", not wrong,
                 f"{len(wrong)} accounts differ, e.g. {wrong[:3]}" if wrong
                 else f"{len(expected)} balances = opening + acknowledged movements")


def _business(cohort: Cohort, since: datetime, refusals: int) -> Check:
    """Every successful posting since the run started has exactly the business fact a recomputation
    from its transaction row gives (kind, day, user, currency, amounts, JOD equivalents), no fact
    points at a transaction that does not exist, and the cohort's refusal facts match the refusals
    the clients saw. The rollups are exact sums of these facts. The SQL baseline bypasses the app
    and records no facts by design; its transactions are left out."""
    try:
        from business.models import MetricEvent
        from business.services import event_for_transaction
    except ImportError:
        return Check("business_metrics", None, "skipped: no business app")
    from api.models import Transaction

    baseline_users = [c.user_id for c in cohort.baseline]
    txns = (Transaction.objects.filter(created_at__gte=since, status__in=["SUCCESS", "REVERSED"])
            .exclude(initiated_by_id__in=baseline_users).select_related("reverses"))
    facts = {str(f.transaction_id): f for f in MetricEvent.objects.filter(occurred_at__gte=since,
                                                                          transaction_id__isnull=False)}
    fields = ("kind", "day", "user_id", "currency", "amount", "fee", "amount_jod", "fee_jod")
    problems, checked = [], 0
    for txn in txns.iterator(chunk_size=2000):
        fact = facts.pop(str(txn.pk), None)
        expected = event_for_transaction(txn)
        if fact is None:
            problems.append(f"no fact for {txn.kind} {txn.pk}")
            continue
        checked += 1
        wrong = [f for f in fields if getattr(fact, f) != getattr(expected, f)]
        if wrong:
            problems.append(f"fact of {txn.pk} differs in {wrong}")
    orphans = [key for key in facts if not Transaction.objects.filter(pk=key).exists()]
    problems += [f"fact for missing transaction {key}" for key in orphans[:3]]
    users = [c.user_id for c in [*cohort.customers, *cohort.hot_pair]]
    failed = MetricEvent.objects.filter(kind="failed", occurred_at__gte=since, user_id__in=users).count()
    if failed != refusals:
        problems.append(f"{failed} refusal facts for {refusals} refusals the clients saw")
    return Check("business_metrics", not problems, "; ".join(problems[:5]) or
                 f"{checked} postings: fact = recomputation from the transaction; {failed} refusal facts = refusals seen")


def run_all(*, cohort: Cohort, before: dict[str, Decimal], since: datetime, movements: list[Movement],
            unknown_keys: list[str], refusals: int = 0) -> list[Check]:
    checks = _whole_db()
    checks.append(_conservation(before, since))
    numbers = [n for c in cohort.everyone for n in c.accounts.values()]
    checks.append(_running_balances(numbers))
    acknowledged, extra = _acknowledged(cohort, movements, unknown_keys)
    checks.append(acknowledged)
    checks.append(_client_model(cohort, movements, extra))
    checks.append(_business(cohort, since, refusals))
    return checks
