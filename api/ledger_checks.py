"""Whole-ledger invariants, in SQL (set-based, fast on millions of rows)."""

from django.db import connection

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
]


def find_discrepancies() -> list[str]:
    problems = []
    with connection.cursor() as cursor:
        for message, sql in CHECKS:
            cursor.execute(sql)
            problems += [message.format(*row) for row in cursor.fetchmany(100)]
    return problems
