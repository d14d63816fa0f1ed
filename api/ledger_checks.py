"""Whole-ledger invariants, in SQL (set-based, fast on millions of rows)."""

from django.db import connection

from .bankday import bank_day, day_start
from .models import Transaction

CHECKS = [
    (
        "account {0} balance {1} != sum of its entries {2}",
        """
        SELECT a.account_number, a.balance, COALESCE(SUM(e.amount), 0)
          FROM api_account a LEFT JOIN api_ledgerentry e ON e.account_id = a.account_number
         WHERE a.role = 'customer'
         GROUP BY a.account_number, a.balance
        HAVING a.balance <> COALESCE(SUM(e.amount), 0)
         ORDER BY a.account_number
        """,
    ),
    (
        "transaction {0} does not balance in {1}: legs sum to {2}",
        """
        SELECT transaction_id, currency, SUM(amount) FROM api_ledgerentry
         GROUP BY transaction_id, currency HAVING SUM(amount) <> 0 ORDER BY transaction_id
        """,
    ),
    (
        "transaction {0} has no ledger entries",
        """
        SELECT t.id FROM api_transaction t
         WHERE NOT EXISTS (SELECT 1 FROM api_ledgerentry e WHERE e.transaction_id = t.id) ORDER BY t.id
        """,
    ),
    (
        "ledger entry {0} currency {1} differs from its account's {2}",
        """
        SELECT e.id, e.currency, a.currency FROM api_ledgerentry e JOIN api_account a ON a.account_number = e.account_id
         WHERE e.currency <> a.currency ORDER BY e.id
        """,
    ),
    (
        "account {0} has a negative balance {1}",
        "SELECT account_number, balance FROM api_account WHERE balance < 0 ORDER BY account_number",
    ),
    (
        "account {0} daily limit counter {1} != today's outgoing amounts {2}",
        """
        SELECT a.account_number, c.counted, COALESCE(SUM(t.amount), 0)
          FROM api_account a
         CROSS JOIN LATERAL (SELECT CASE WHEN a.spent_on = %(day)s THEN a.spent_today ELSE 0 END AS counted) c
          LEFT JOIN api_transaction t
            ON t.sender_account_id = a.account_number AND t.created_at >= %(start)s
           AND t.kind = ANY(%(kinds)s) AND t.status = 'SUCCESS'
         WHERE a.role = 'customer'
         GROUP BY a.account_number, c.counted
        HAVING c.counted <> COALESCE(SUM(t.amount), 0)
         ORDER BY a.account_number
        """,
    ),
]


def find_discrepancies() -> list[str]:
    day = bank_day()
    params = {"day": day, "start": day_start(day), "kinds": [str(kind) for kind in Transaction.LIMITED_KINDS]}
    problems = []
    with connection.cursor() as cursor:
        for message, sql in CHECKS:
            cursor.execute(sql, params)
            problems += [message.format(*row) for row in cursor.fetchmany(100)]
    return problems
