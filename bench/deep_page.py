"""Page 200 of a 100,000-line statement, by OFFSET (before contract v1.3) and by cursor (now).

``.venv/bin/python bench/deep_page.py`` on the benchmark's database (after a ``python -m bench`` run has
seeded it): adds deposit lines to one customer's JOD account until it has 100,000 (once), then times the
statement statement for page 200 both ways (medians of 30) and checks they return the same lines.
"""

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env  # noqa: E402

LINES = 100_000
PAGE, SIZE = 200, 50


def median_ms(call, runs: int = 30) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    env.prepare()
    env.setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from api import queries
    from api.models import Account, LedgerEntry, Transaction, User
    from api.services.house import house_account_number
    from nexus import sql

    owner = User.objects.filter(is_staff=False).order_by("date_joined").first()
    account = Account.objects.filter(owner=owner, currency="JOD").first()
    vault = house_account_number("vault", "JOD")
    missing = LINES - LedgerEntry.objects.filter(account=account).count()
    T, L = sql.Names(Transaction), sql.Names(LedgerEntry)
    if missing > 0:  # deposits of 1 JOD, one second apart, balanced (the ledger's trigger checks it)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"WITH t AS (INSERT INTO {T.table} ({T.id}, {T.kind}, {T.status}, {T.sender_account}, "
                f"{T.receiver_account}, {T.amount}, {T.currency}, {T.fee_amount}, {T.credited_amount}, "
                f"{T.credited_currency}, {T.description}, {T.created_at}) SELECT gen_random_uuid(), 'deposit', "
                f"'success', %s, %s, 1, 'JOD', 0, 1, 'JOD', 'deep page', now() - (g || ' seconds')::interval "
                f"FROM generate_series(1, %s) g RETURNING {T.id}, {T.created_at}) "
                f"INSERT INTO {L.table} ({L.transaction}, {L.account}, {L.amount}, {L.currency}, {L.purpose}, "
                f"{L.created_at}) SELECT t.{T.id}, leg.account, leg.amount, 'JOD', 'principal', t.{T.created_at} "
                f"FROM t, LATERAL (VALUES (%s, 1::numeric), (%s, -1::numeric)) leg(account, amount)",
                [vault, account.pk, missing, account.pk, vault])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    start, end = timezone.now() - dt.timedelta(days=3650), timezone.now() + dt.timedelta(days=1)
    page = dict(owner_id=owner.pk, number=account.pk, start=start, end=end, limit=SIZE + 1)
    before = queries.statement_page(**{**page, "limit": (PAGE - 1) * SIZE + 1})[-2]  # the last line of page 199
    position = (before[6], before[-1])
    # The statement as it was: the same text with OFFSET instead of the position.
    by_offset = queries.STATEMENT_OLDER.replace("AND (entry.", "-- (entry.").replace(
        "LIMIT %(limit)s", "LIMIT %(limit)s OFFSET %(offset)s")
    offset_params = {"number": account.pk, "owner": owner.pk, "role": Account.Role.CUSTOMER, "start": start,
                     "end": end, "limit": SIZE + 1, "offset": (PAGE - 1) * SIZE, "at": end, "line": 0}
    same = ([row[-1] for row in sql.fetch(by_offset, offset_params)][:SIZE]
            == [row[-1] for row in queries.statement_page(**page, older_than=position)][:SIZE])
    offset_ms = median_ms(lambda: sql.fetch(by_offset, offset_params))
    cursor_ms = median_ms(lambda: queries.statement_page(**page, older_than=position))
    first_ms = median_ms(lambda: queries.statement_page(**page))
    print(f"{LedgerEntry.objects.filter(account=account).count()} lines; page {PAGE} by OFFSET {offset_ms:.2f} ms, "
          f"by cursor {cursor_ms:.2f} ms (page 1: {first_ms:.2f} ms); same lines: {same}")


if __name__ == "__main__":
    main()
