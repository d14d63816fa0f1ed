"""The core banking app's hand-written SQL: the only module of ``api`` that writes SQL text.

Everything else in ``api`` uses the ORM (docs/ARCHITECTURE.md, "Data access"). A statement is
here only because the benchmark (``python3 scripts/bench.py``, bench/README.md) showed the ORM's
equivalent cost more than the statement: the figure is written beside each. Every table and column
name comes from the models' ``_meta`` (``nexus.sql``), so a renamed field renames it here too, and
tests/nexus/test_queries.py runs every statement against the migrated schema. Rows come back as
model instances through ``Model.from_db``, as the ORM itself makes them.
"""

from collections import namedtuple
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.db import connection

from nexus import queries as nexus_queries
from nexus import sql
from nexus.models import Job

from .models import (
    Account,
    IdempotencyBody,
    IdempotencyRecord,
    LedgerEntry,
    Notification,
    StandingOrder,
    Transaction,
    User,
)

A, T, L, R = sql.Names(Account), sql.Names(Transaction), sql.Names(LedgerEntry), sql.Names(IdempotencyRecord)

# --- the user of every authenticated request --------------------------------------------------
# With the account and statement pages below: reads 372 -> 565/s and 4.5 -> 3 statements per read,
# compiling ``User.objects.get(pk=...)`` having cost more CPU than PostgreSQL spent running it.

# The row brings the reference data version too (nexus.refcache.learned): an authenticated request needs
# no statement of its own for it.
USER_FIELDS, _USER_COLUMNS = sql.select_list(User)
USER_BY_ID = (f"SELECT {_USER_COLUMNS}, ({nexus_queries.REFERENCE_VERSION}) FROM {sql.table(User)} "
              f"WHERE {sql.column(User, 'id')} = %s")


# And the request's throttle hit (nexus.throttles.UserThrottle, on PostgreSQL): the counter's upsert as a
# data-modifying CTE of the same statement, one round trip instead of two for every authenticated request.
USER_BY_ID_COUNTING = (f"WITH hit AS ({nexus_queries.HIT}) SELECT {_USER_COLUMNS}, "
                       f"({nexus_queries.REFERENCE_VERSION}), (SELECT hits FROM hit) FROM {sql.table(User)} "
                       f"WHERE {sql.column(User, 'id')} = %s")


def user_by_id(user_id, throttle: tuple[str, int] | None = None) -> tuple[User | None, int | None, int | None]:
    """The user, the reference data version read in the same statement, and with ``throttle`` (key, window
    start) the throttle's hits in that window counting this request (else None)."""
    if throttle is None:
        rows = sql.fetch(USER_BY_ID, [user_id])
        hits = None
    else:
        rows = sql.fetch(USER_BY_ID_COUNTING, [*throttle, user_id])
        hits = rows[0][-1] if rows else None
        rows = [row[:-1] for row in rows]
    if not rows:
        return None, None, hits
    return sql.instances(User, USER_FIELDS, [rows[0][:-1]])[0], rows[0][-1], hits


# --- the one lock of the money path (api.locks) ---------------------------------------------
# Account.objects.filter(pk__in=...).order_by("pk").select_for_update(no_key=True), written once:
# the transfer service (lock, checks, building the posting) was 23 % of a transfer's Python time,
# and compiling this queryset on every transfer cost more than running it.

# The numbers are written out, one placeholder each (one text per count of accounts): as one array
# parameter (``= ANY(%s::varchar[])``) PostgreSQL planned the statement again on every run, its plan for an
# array of unknown length costing more than the plan for the two numbers it was given, so the plan cache
# never settled on the generic plan (pg_prepared_statements: 0 generic plans, 115 custom after 115
# transfers; PostgreSQL's CPU per transfer 875 -> 750 us, in-process, medians of 5 alternating runs).
# tests/nexus/test_plans.py keeps every statement of the money path and the reads planned once.

ACCOUNT_FIELDS, _ACCOUNT_COLUMNS = sql.select_list(Account)


@cache
def _lock_accounts(count: int) -> str:
    return (f"SELECT {_ACCOUNT_COLUMNS} FROM {A.table} WHERE {A.account_number} IN ({sql.placeholders(count)}) "
            f"ORDER BY {A.account_number} FOR NO KEY UPDATE")


def lock_accounts(numbers: list[str]) -> list[Account]:
    if not numbers:
        return []
    return sql.instances(Account, ACCOUNT_FIELDS, sql.fetch(_lock_accounts(len(numbers)), list(numbers)))


# --- step-up across requests (api.services.stepup): one statement on an uncoded payment -------
# Through the ORM (select_for_update, then two Subquery annotations) a bench transfer cost 1.9 ms more of
# gunicorn's CPU than before the rule (transfers 353 -> 259 ok/s, hot pair 328 -> 196, A/B medians). Here
# the user's lock and both totals are one prepared statement: the latest total is on the locked row, which
# PostgreSQL re-reads once a concurrent payment's update commits (so it is never stale); the total from
# before the window is older than 24 hours, long committed, so the statement's snapshot holds it.

U = sql.Names(User)
LOCK_USER = f"SELECT 1 FROM {U.table} WHERE {U.id} = %s FOR NO KEY UPDATE"
# A standing order created without a code records the running total too (v1.3): the one before the window
# is the later of the two tables' (GREATEST ignores a missing one; a running total only grows). The second
# look-up cost nothing measurable: transfers 158.6 -> 166.5 ok per CPU-second, reads 395.4 -> 400.9
# (4 alternating 10 s rounds, eb3bf9f vs c3bd70b, a noisy shared host: noise either way).
S = sql.Names(StandingOrder)
LOCK_USER_TOTALS = (
    f"SELECT u.{U.uncoded_total}, GREATEST("
    f"(SELECT t.{T.uncoded_total} FROM {T.table} t WHERE t.{T.initiated_by} = u.{U.id} "
    f"AND t.{T.uncoded_total} IS NOT NULL AND t.{T.created_at} <= %s ORDER BY t.{T.created_at} DESC LIMIT 1), "
    f"(SELECT s.{S.uncoded_total} FROM {S.table} s WHERE s.{S.owner} = u.{U.id} "
    f"AND s.{S.uncoded_total} IS NOT NULL AND s.{S.created_at} <= %s ORDER BY s.{S.created_at} DESC LIMIT 1)) "
    f"FROM {U.table} u WHERE u.{U.id} = %s FOR NO KEY UPDATE OF u")


def lock_user(user_id) -> None:
    sql.fetch(LOCK_USER, [user_id])


# A payment's accounts locked by the same statement (one round trip fewer per payment made without a
# code): the user's row first, as every service takes them, since no account row reaches the outer lock
# before the join has read the locked ``payer`` row; then the accounts, in lock_accounts's order and mode.


@cache
def _lock_user_totals_and_accounts(count: int) -> str:
    return (f"WITH payer AS MATERIALIZED ({LOCK_USER_TOTALS}) "
            f"SELECT payer.*, {', '.join(f'a.{column}' for column in _ACCOUNT_COLUMNS.split(', '))} "
            f"FROM payer CROSS JOIN {A.table} a WHERE a.{A.account_number} IN ({sql.placeholders(count)}) "
            f"ORDER BY a.{A.account_number} FOR NO KEY UPDATE OF a")


def lock_user_totals(user_id, since, numbers: list[str] = ()) -> tuple[tuple, list[Account]]:
    """Lock the user's row, then the accounts ``numbers`` (as :func:`lock_accounts`); ((their running total
    of payments made without a code, the one recorded last at or before ``since`` or None), the accounts)."""
    if numbers:
        rows = sql.fetch(_lock_user_totals_and_accounts(len(numbers)), [since, since, user_id, *numbers])
        if rows:
            return rows[0][:2], sql.instances(Account, ACCOUNT_FIELDS, [row[2:] for row in rows])
    return sql.fetch(LOCK_USER_TOTALS, [since, since, user_id])[0], []


# --- the posting: balances, the transaction row, its ledger legs and its reactions' job -------
# One round trip instead of six; its text and its 30 parameters are the same for every posting (a keyed
# transfer's is a second text, with the key's 7 more: OwedRecord), arrays going through unnest, each sent as
# one text (nexus.sql.array), so psycopg converts each text once and PostgreSQL prepares each once per
# connection: 347-417 -> 385-412 transfers/s in 10 s A/B windows (it was re-parsed in Python on
# every transfer, about 7 % of a worker, when its shape varied with the number of legs).

BALANCE_FIELDS = ("account_number", "balance", "spent_on", "spent_amount")
MONEY_MOVED = "money_moved"  # the job topic of a posting's reactions (api.reactions)
SHARED_ENTRY_FIELDS = ("transaction", "created_at")
LINE_FIELDS = ("account", "amount", "currency", "purpose", "balance_after")
Line = namedtuple("Line", LINE_FIELDS)  # one ledger leg of a posting, named as its columns


def _arrays(model, names) -> str:
    """``unnest(%s::type[], ...)`` over the named fields' column types."""
    return "unnest({})".format(", ".join(f"%s::{model._meta.get_field(name).db_type(connection)}[]" for name in names))


# --- idempotency records (api.services.money_request) ---------------------------------------------
# A keyed money request writes its record once, at the end of its transaction, with the outcome: the
# claim first and the outcome's UPDATE at the end were two statements (one round trip and one row
# version more per keyed request). Building the ORM's INSERT ... ON CONFLICT cost more CPU than the
# statement. A request answered by the transaction it posts has it written by the posting itself
# (``OwedRecord``): one round trip fewer again.
RECORD_OUTCOME = (f"INSERT INTO {R.table} ({R.user}, {R.key}, {R.fingerprint}, {R.created_at}, {R.response_status}, "
                  f"{R.result_type}, {R.result_id}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                  f"ON CONFLICT ({R.user}, {R.key}) DO NOTHING RETURNING 1")


@cache
def posting(keyed: bool = False) -> str:
    """The posting statement (built once: column types need the database connection). Its ``job`` part
    owes the movement's reactions (contract v1.3, nexus.jobs): a ``money_moved`` job keyed by the
    transaction, committed with it in the same round trip. ``keyed``: it records the request's idempotency
    key too (``RECORD_OUTCOME``'s insert, see ``OwedRecord``) and answers whether it did."""
    _, txn_columns, txn_values = sql.insert_columns(Transaction)
    _, job_columns, job_values = sql.insert_columns(Job)
    balances = [A[name] for name in BALANCE_FIELDS]
    lines = [L[name] for name in LINE_FIELDS]
    legs = (f"INSERT INTO {L.table} ({', '.join([L[name] for name in SHARED_ENTRY_FIELDS] + lines)}) "
            f"SELECT %s, %s, {', '.join(f'v.{column}' for column in lines)} "
            f"FROM {_arrays(LedgerEntry, LINE_FIELDS)} AS v({', '.join(lines)})")
    return (
        f"WITH balances AS (UPDATE {A.table} SET "
        + ", ".join(f"{column} = v.{column}" for column in balances[1:])
        + f", {A.updated_at} = %s FROM {_arrays(Account, BALANCE_FIELDS)} AS v({', '.join(balances)}) "
        f"WHERE {A.table}.{A.account_number} = v.{A.account_number} RETURNING 1), "
        f"txn AS (INSERT INTO {T.table} ({txn_columns}) VALUES ({txn_values}) RETURNING 1), "
        f"job AS (INSERT INTO {sql.table(Job)} ({job_columns}) VALUES ({job_values}) RETURNING 1), "
        # A payment made without a code moves its payer's running total (api.services.stepup).
        f"payer AS (UPDATE {U.table} SET {U.uncoded_total} = %s::numeric WHERE {U.id} = %s AND %s::numeric IS NOT NULL "
        f"RETURNING 1) "
        + (f", legs AS ({legs}), record AS ({RECORD_OUTCOME}) SELECT EXISTS (SELECT FROM record)" if keyed else legs)
    )


class OwedRecord:
    """A keyed money request's record (``RECORD_OUTCOME``), offered to the transaction's posting: a request
    whose answer is the transaction it posts (``Command.answers_posting``) has its key recorded by the
    posting statement itself, one round trip fewer. ``taken``: a posting wrote it (with the outcome 201 and
    that transaction); ``recorded``: the key was free (False: taken first, as ``record_outcome`` says)."""

    __slots__ = ("user_id", "key", "fingerprint", "taken", "recorded", "result_id")

    def __init__(self, user_id, key: str, fingerprint: str):
        self.user_id, self.key, self.fingerprint = user_id, key, fingerprint
        self.taken = self.recorded = False
        self.result_id = None


_owed: ContextVar[OwedRecord | None] = ContextVar("owed idempotency record", default=None)


@contextmanager
def record_with_posting(owed: OwedRecord | None):
    """While the block runs, the first posting records ``owed`` (see ``OwedRecord``; None: none does)."""
    token = _owed.set(owed)
    try:
        yield owed
    finally:
        _owed.reset(token)


def book(*, balances: list[tuple], txn: Transaction, lines: list[tuple], now, job_payload: dict) -> None:
    """Run the posting. ``balances``: one tuple per changed account in BALANCE_FIELDS order;
    ``lines``: one ``Line`` per ledger leg; ``job_payload``: what its ``money_moved`` job carries."""
    owed = _owed.get()
    if owed is not None and owed.taken:
        owed = None  # one posting per request answers it
    params: list = [now]
    params += [sql.array(column) for column in zip(*balances, strict=True)] or ["{}" for _ in BALANCE_FIELDS]
    params += sql.insert_values(txn)
    params += sql.insert_values(Job(topic=MONEY_MOVED, key=str(txn.pk), payload=job_payload, created_at=now,
                                    available_at=now))
    params += [txn.uncoded_total, txn.initiated_by_id, txn.uncoded_total]
    params += [txn.pk, now]
    params += [sql.array(column) for column in zip(*lines, strict=True)]
    if owed is None:
        sql.execute(posting(), params)
        return
    params += [owed.user_id, owed.key, owed.fingerprint, now, 201, Transaction._meta.label_lower, str(txn.pk)]
    owed.taken, owed.result_id = True, txn.pk
    owed.recorded = sql.fetch(posting(keyed=True), params)[0][0]


# After the commit: the first answer's body, rendered once the locks were released (api.services.money_request),
# into an UNLOGGED table: no second WAL flush per money request.
B = sql.Names(IdempotencyBody)
STORE_BODY = (f"INSERT INTO {B.table} ({B.user_id}, {B.key}, {B.body}, {B.created_at}) VALUES (%s, %s, %s, %s) "
              f"ON CONFLICT ({B.user_id}, {B.key}) DO NOTHING")


def record_outcome(user_id, key: str, fingerprint: str, now, status: int, result_type: str, result_id: str) -> bool:
    """True when this transaction recorded the key with its outcome; False when the key was taken first (by
    an earlier request, or by a concurrent one whose commit this waited for on the unique index)."""
    return bool(sql.fetch(RECORD_OUTCOME, [user_id, key, fingerprint, now, status, result_type, result_id]))


def store_body(user_id, key: str, body: str, now) -> None:
    sql.execute(STORE_BODY, [user_id, key, body, now])


# --- the two hottest reads: a customer's accounts, a statement page ---------------------------
# Reads 372 -> 565/s together with the user row above (pages without COUNT(*): one row more than
# the page tells whether there is a next one).

ACCOUNT_PAGE = (f"SELECT {_ACCOUNT_COLUMNS} FROM {A.table} WHERE {A.owner} = %s AND {A.role} = %s "
                f"ORDER BY {A.created_at}, {A.account_number} LIMIT %s OFFSET %s")


def account_page(owner_id, offset: int, limit: int) -> list[Account]:
    rows = sql.fetch(ACCOUNT_PAGE, [owner_id, Account.Role.CUSTOMER, limit, offset])
    return sql.instances(Account, ACCOUNT_FIELDS, rows)


# One statement answers both "is this the caller's account?" (no row: 404) and "which lines are on
# this page?" (one row per line, or a single row of NULLs for an empty page), through the index
# ledger_account_created. Pages are keyset (contract v1.3 cursors, nexus.pagination): the lines strictly
# older than the cursor's (time, line id), newest first, or strictly newer for a previous page, read
# oldest first. The date range is always bound (the widest one when the client sends none), and the
# first page's cursor is the range's end: two statement texts, prepared once. OFFSET read and threw
# away every line before the page (bench/README.md, "deep page").
# A row's names and the SELECT list come from this one table: a column added or moved changes both.
STATEMENT_COLUMNS = (
    ("transaction_id", f"txn.{T.id}"), ("kind", f"txn.{T.kind}"), ("amount", f"entry.{L.amount}"),
    ("currency", f"entry.{L.currency}"), ("balance_after", f"entry.{L.balance_after}"),
    ("purpose", f"entry.{L.purpose}"), ("created_at", f"entry.{L.created_at}"), ("account_id", f"entry.{L.account}"),
    ("description", f"txn.{T.description}"), ("sender_account_id", f"txn.{T.sender_account}"),
    ("receiver_account_id", f"txn.{T.receiver_account}"), ("line_id", f"entry.{L.id}"),
)
StatementRow = namedtuple("StatementRow", [name for name, _ in STATEMENT_COLUMNS])


def _statement_page(newer: bool) -> str:
    compare, order = (">", "ASC") if newer else ("<", "DESC")
    return f"""
SELECT line.* FROM {A.table} account LEFT JOIN LATERAL (
    SELECT {", ".join(expression for _, expression in STATEMENT_COLUMNS)}
    FROM {L.table} entry JOIN {T.table} txn ON txn.{T.id} = entry.{L.transaction}
    WHERE entry.{L.account} = account.{A.account_number}
      AND entry.{L.created_at} >= %(start)s AND entry.{L.created_at} < %(end)s
      AND (entry.{L.created_at}, entry.{L.id}) {compare} (%(at)s, %(line)s::bigint)
    ORDER BY entry.{L.created_at} {order}, entry.{L.id} {order} LIMIT %(limit)s
) line ON TRUE
WHERE account.{A.account_number} = %(number)s AND account.{A.owner} = %(owner)s AND account.{A.role} = %(role)s
"""


STATEMENT_OLDER, STATEMENT_NEWER = _statement_page(newer=False), _statement_page(newer=True)


def statement_page(*, owner_id, number: str, start, end, limit: int, older_than=None,
                   newer_than=None) -> list[tuple] | None:
    """``StatementRow``s, newest first: the newest of [start, end), or those older than
    ``older_than`` / newer than ``newer_than`` (a (time, line id) position); None when the account is not
    the owner's customer account."""
    at, line = newer_than or older_than or (end, 0)
    rows = sql.fetch(STATEMENT_NEWER if newer_than else STATEMENT_OLDER, {
        "number": number, "owner": owner_id, "role": Account.Role.CUSTOMER, "start": start, "end": end,
        "limit": limit, "at": at, "line": line})
    if not rows:
        return None
    lines = [StatementRow(*row) for row in rows if row[0] is not None]  # a page of none: one row of NULLs
    return lines[::-1] if newer_than else lines


# --- a batch of committed movements, as the job worker's reactions read them (api.reactions) ------
# Each movement with what its reactions need besides its own row: whose accounts it touched (the
# notifications), and for a reversal the original's figures (the business fact), in one statement of
# one text. The ORM's select_related over four tables compiled a new query for every batch and built
# five model instances per movement: a quarter of the worker's CPU.
TXN_FIELDS, _TXN_COLUMNS = sql.select_list(Transaction)
ORIGINAL_FIELDS = ("id", "amount", "currency", "fee_amount", "credited_amount", "credited_currency", "created_at")
MOVEMENTS = (
    f"SELECT {', '.join(f't.{column}' for column in _TXN_COLUMNS.split(', '))}, "
    f"s.{A.owner}, s.{A.role}, r.{A.owner}, r.{A.role}, "
    + ", ".join(f"o.{T[name]}" for name in ORIGINAL_FIELDS)
    + f" FROM {T.table} t JOIN {A.table} s ON s.{A.account_number} = t.{T.sender_account} "
    f"JOIN {A.table} r ON r.{A.account_number} = t.{T.receiver_account} "
    f"LEFT JOIN {T.table} o ON o.{T.id} = t.{T.reverses} "
    f"WHERE t.{T.id} = ANY(%s::uuid[]) ORDER BY t.{T.created_at}, t.{T.id}")


# What a movement's related objects are given: set as select_related sets them (each field's cache), not
# through their descriptors (a type check and a router's consent for each, a tenth of the worker's CPU).
_SENDER, _RECEIVER, _INITIATOR, _REVERSES = (Transaction._meta.get_field(name) for name in
                                             ("sender_account", "receiver_account", "initiated_by", "reverses"))
_ACCOUNT_PARTS = ("account_number", "owner_id", "role")


def movements(ids: list[str]) -> list[Transaction]:
    """The movements ``ids``, oldest first, with ``sender_account`` and ``receiver_account`` (owner and
    role only), ``initiated_by`` (its id only) and ``reverses`` (ORIGINAL_FIELDS) at hand."""
    found = []
    alias = connection.alias
    width = len(TXN_FIELDS)
    for row in sql.fetch(MOVEMENTS, [sql.array(ids)]):
        txn = Transaction.from_db(alias, TXN_FIELDS, row[:width])
        sender_owner, sender_role, receiver_owner, receiver_role = row[width:width + 4]
        _SENDER.set_cached_value(txn, Account.from_db(alias, _ACCOUNT_PARTS,
                                                      [txn.sender_account_id, sender_owner, sender_role]))
        _RECEIVER.set_cached_value(txn, Account.from_db(alias, _ACCOUNT_PARTS,
                                                        [txn.receiver_account_id, receiver_owner, receiver_role]))
        _INITIATOR.set_cached_value(txn, None if txn.initiated_by_id is None
                                    else User.from_db(alias, ["id"], [txn.initiated_by_id]))
        _REVERSES.set_cached_value(txn, None if txn.reverses_id is None
                                   else Transaction.from_db(alias, ORIGINAL_FIELDS, row[width + 4:]))
        found.append(txn)
    return found


# --- notifications (contract v1.2), for each batch of committed movements ------------------------
# The rows of a batch (each movement's sender's and receiver's) and their pushes to the sockets open to
# their users (nexus.queries.PUBLISH, as a data-modifying WITH) in one statement of one text, the rows
# as one recordset parameter (nexus.sql), committed without waiting for the WAL flush
# (``synchronous_commit`` off for this statement's own transaction, through ``set_config(..., true)``):
# a notification is derived from a movement already durable, so a crash can lose at most the last few
# hundred milliseconds of the worker's work, which its job (deleted in the same transaction) then
# does again. Measured in the job worker: bench/README.md, "Contract v1.3".

NOTIFICATION_FIELDS = ("id", "user", "kind", "title", "body", "data", "created_at")


@cache
def notification_statement(published: bool) -> str:
    """INSERT of a recordset of rows, with their pushes if ``published`` (built once: column types)."""
    columns, rows = sql.model_recordset(Notification, NOTIFICATION_FIELDS)
    insert = (f"INSERT INTO {sql.table(Notification)} ({columns}) SELECT r.* FROM {rows}, "
              f"(SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit")
    if not published:
        return insert
    return f"WITH pushed AS ({nexus_queries.PUBLISH}) {insert}"


def insert_notifications(rows: list[Notification], publication: list | None = None) -> None:
    """One INSERT of every row (``read_at`` unset), and with ``publication``
    (``nexus.realtime.postgres_publication``) their pushes in the same statement."""
    sql.execute(notification_statement(publication is not None),
                [*(publication or []), sql.model_records(rows, NOTIFICATION_FIELDS)])


# --- maintenance -------------------------------------------------------------------------------

def analyze() -> None:
    """Planner statistics for every table, after seeding a database (the embedded server rarely runs
    autovacuum, and without statistics the statement page was planned as a sequential scan)."""
    sql.execute("ANALYZE", [])
