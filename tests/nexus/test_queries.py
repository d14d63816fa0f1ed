"""The data-access rule (docs/ARCHITECTURE.md): hand-written SQL only in each app's queries.py, every
statement run here against the migrated schema, so a renamed field or table fails CI."""

import ast
import datetime as dt
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from api import queries as api_queries
from api.models import Account, IdempotencyBody, IdempotencyRecord, Transaction
from api.services.transfers import transfer_external
from business import queries as business_queries
from business.models import DailyActiveUser, MetricEvent
from business.services import event_for_transaction
from nexus import queries as nexus_queries
from risk import queries as risk_queries
from risk.models import Incident
from tests.factories import AccountFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
# Where SQL text may appear: each app's queries module, the ground's helpers that build statements from
# _meta, the embedded server's set-up, and migrations. docs/ARCHITECTURE.md names exactly these files.
ALLOWED = {"api/queries.py", "risk/queries.py", "business/queries.py", "nexus/queries.py", "nexus/sql.py",
           "nexus/embedded_pg.py"}
SQL_START = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH ", "ANALYZE", "CREATE ", "ALTER ", "DROP ")


def test_no_sql_text_outside_the_queries_modules():
    offenders = []
    for app in ("api", "business", "risk", "nexus"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in ALLOWED:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and node.value.lstrip().upper().startswith(SQL_START) and "%s" in node.value + " %s":
                    if any(word in node.value.upper() for word in (" FROM ", " INTO ", " SET ", "ANALYZE")):
                        offenders.append(f"{relative}:{node.lineno}")
                if isinstance(node, ast.Attribute) and (node.attr in {"raw", "extra"} or (
                        node.attr in {"execute", "executemany"} and getattr(node.value, "id", "") in {"cursor", "cur"})):
                    offenders.append(f"{relative}:{node.lineno} .{node.attr}()")
    assert not offenders, f"SQL outside the queries modules: {offenders}"
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    item = page.split("2. **SQL text only in the queries modules**", 1)[1].split("\n3. ", 1)[0]
    named = {path for path in re.findall(r"`([\w/]+\.py)`", item) if not path.startswith("tests/")}
    assert named == ALLOWED, "the page and the allow-list differ"


def test_the_queries_modules_run_their_statements_through_nexus_sql():
    """docs/ARCHITECTURE.md, data access item 6: no cursor of their own, but the migration lock's."""
    offenders = []
    for relative in ("api/queries.py", "risk/queries.py", "business/queries.py", "nexus/queries.py"):
        tree = ast.parse((ROOT / relative).read_text())
        for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
            if function.name in {"advisory_lock", "advisory_unlock"}:
                continue
            offenders += [f"{relative}:{node.lineno} {function.name}" for node in ast.walk(function)
                          if isinstance(node, ast.Attribute) and node.attr in {"cursor", "chunked_cursor"}]
    assert not offenders, f"a cursor of its own in a queries module: {offenders}"
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert "`nexus.queries.advisory_lock`" in page.split("6. **A queries module runs its statements", 1)[1]


@pytest.mark.django_db
def test_every_api_statement_runs_against_the_schema():
    sender = AccountFactory(funded=Decimal("100"))
    receiver = AccountFactory(type=Account.Type.USD)
    user, version, hits = api_queries.user_by_id(sender.owner_id)
    assert user.pk == sender.owner_id and version == nexus_queries.reference_version() and hits is None
    assert api_queries.user_by_id(uuid.uuid4()) == (None, None, None)
    for expected in (1, 2):  # the user row and the throttle's hit in one statement
        user, version, hits = api_queries.user_by_id(sender.owner_id, ("user:u:test", 60))
        assert (user.pk, version, hits) == (sender.owner_id, nexus_queries.reference_version(), expected)
    locked = api_queries.lock_accounts(sorted([sender.pk, receiver.pk]))
    assert [a.pk for a in locked] == sorted([sender.pk, receiver.pk])
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal("10"))  # the posting statement
    assert txn.entries.count() == 6
    api_queries.lock_user(sender.owner_id)
    assert api_queries.lock_user_totals(sender.owner_id, timezone.now()) == (
        (txn.uncoded_total, txn.uncoded_total), [])
    assert api_queries.lock_user_totals(sender.owner_id, txn.created_at - dt.timedelta(seconds=1)) == (
        (txn.uncoded_total, None), [])
    numbers = [receiver.pk, sender.pk, sender.pk]  # the payer's row, then the accounts in their order
    totals, locked = api_queries.lock_user_totals(sender.owner_id, timezone.now(), sorted(set(numbers)))
    assert totals == (txn.uncoded_total, txn.uncoded_total)
    assert [a.pk for a in locked] == sorted({sender.pk, receiver.pk})
    assert [a.balance for a in locked] == [Account.objects.get(pk=a.pk).balance for a in locked]
    assert api_queries.lock_user_totals(sender.owner_id, timezone.now(), ["000000000000"]) == (
        (txn.uncoded_total, txn.uncoded_total), [])  # no such account: the totals all the same
    assert api_queries.record_outcome(sender.owner_id, "k", "f" * 64, timezone.now(), 201, "api.transaction",
                                      str(txn.pk))
    assert not api_queries.record_outcome(sender.owner_id, "k", "e" * 64, timezone.now(), 202, "api.approval", "1")
    api_queries.store_body(sender.owner_id, "k", "{}", timezone.now())
    api_queries.store_body(sender.owner_id, "k", "[]", timezone.now())  # the first body stays
    record = IdempotencyRecord.objects.get(key="k")
    assert (record.response_status, record.result_type, record.result_id) == (201, "api.transaction", str(txn.pk))
    assert IdempotencyBody.objects.get(key="k").body == "{}"
    assert [a.pk for a in api_queries.account_page(sender.owner_id, 0, 10)] == [sender.pk]
    start, end = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(days=1)
    lines = api_queries.statement_page(owner_id=sender.owner_id, number=sender.pk, start=start, end=end, limit=50)
    assert {line.transaction_id for line in lines} == {txn.pk, sender.entries.order_by("id").first().transaction_id}
    newest, oldest = lines[0], lines[-1]
    assert api_queries.statement_page(owner_id=sender.owner_id, number=sender.pk, start=start, end=end, limit=50,
                                      older_than=(newest.created_at, newest.line_id))[0] == lines[1]
    assert api_queries.statement_page(owner_id=sender.owner_id, number=sender.pk, start=start, end=end, limit=50,
                                      newer_than=(oldest.created_at, oldest.line_id))[-1] == lines[-2]
    assert api_queries.statement_page(owner_id=receiver.owner_id, number=sender.pk, start=start, end=end,
                                      limit=50) is None
    api_queries.analyze()


@pytest.mark.django_db
def test_every_risk_business_and_ground_statement_runs_against_the_schema():
    sender = AccountFactory(funded=Decimal("100"))
    receiver = AccountFactory()
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal("10"))
    since = txn.created_at - dt.timedelta(minutes=1)
    user = sender.owner_id
    window = [(user, since, txn.created_at)]
    assert risk_queries.recent_outgoing(window, rule="velocity") == {user: [("JOD", 1, Decimal("10.000"))]}
    assert risk_queries.recent_outgoing([(user, txn.created_at, txn.created_at)], rule="velocity") == {}
    standing = Incident.objects.create(code="velocity", event="e", severity="high", subject=str(user),
                                       dedup_key="velocity-standing", timestamp=txn.created_at)
    assert risk_queries.recent_outgoing(window, rule="velocity") == {}
    assert standing.subject == str(user)  # incidents are never deleted: another rule is still armed
    assert risk_queries.latest_incidents("velocity", [str(user), str(user), "other"], since) == {
        str(user): standing.timestamp}
    assert risk_queries.latest_incidents("velocity", [str(user)], standing.timestamp) == {}
    assert risk_queries.latest_incidents("unusual_hour", [str(user)], since) == {}
    odd = ['a"b\\c,{}', "NULL", ""]  # subjects travel as one array text: quoted and escaped
    for n, subject in enumerate(odd * 2):
        Incident.objects.create(code="brute_force", event="e", severity="high", subject=subject,
                                dedup_key=f"odd-{n}", timestamp=txn.created_at + dt.timedelta(minutes=n))
    assert risk_queries.latest_incidents("brute_force", [*odd, "absent"], since) == {
        subject: txn.created_at + dt.timedelta(minutes=n + 3) for n, subject in enumerate(odd)}  # the newest
    assert len(risk_queries.recent_outgoing(window, rule="unusual_hour")[user]) == 1
    MetricEvent.objects.filter(transaction_id=txn.pk).delete()
    fact = event_for_transaction(Transaction.objects.get(pk=txn.pk))
    business_queries.insert_facts([fact])
    business_queries.insert_facts([fact])  # a fact already there is kept, never doubled
    stored = MetricEvent.objects.get(transaction_id=txn.pk)
    assert (stored.amount, stored.amount_jod, stored.occurred_at, stored.day) == (
        fact.amount, fact.amount_jod, fact.occurred_at, fact.day)
    user = UserFactory()
    business_queries.mark_active(dt.date(2026, 1, 2), user.pk)
    business_queries.mark_active(dt.date(2026, 1, 2), user.pk)
    assert DailyActiveUser.objects.filter(user=user).count() == 1
    assert [nexus_queries.hit("test-key", 60), nexus_queries.hit("test-key", 60), nexus_queries.hit("test-key", 120)] \
        == [1, 2, 1]
    nexus_queries.purge(121)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'nexus_ratelimitwindow'")
        assert cursor.fetchone() == ("u",)  # unlogged


@pytest.mark.django_db
def test_the_notification_and_publish_statements_run_against_the_schema():
    from channels_postgres.models import GroupChannel, Message

    from api.models import Notification

    user = UserFactory()
    now = timezone.now()
    rows = [Notification(user=user, kind="deposit", title="one", data={"transaction_id": "t"}, created_at=now),
            Notification(user=user, kind="transfer_in", title="two", body="b", created_at=now)]
    api_queries.insert_notifications(rows)
    stored = {n.title: n for n in Notification.objects.filter(user=user)}
    assert stored["one"].data == {"transaction_id": "t"} and stored["two"].body == "b"
    assert stored["one"].read_at is None and stored["one"].pk == rows[0].pk
    GroupChannel.objects.create(group_key="asgi:group:g", channel="specific.x!a", expire=now + dt.timedelta(hours=1))
    GroupChannel.objects.create(group_key="asgi:group:g", channel="specific.x!a", expire=now + dt.timedelta(hours=1))
    GroupChannel.objects.create(group_key="asgi:group:g", channel="specific.x!old", expire=now - dt.timedelta(seconds=1))
    nexus_queries.publish(nexus_queries.publish_parameters(
        ["asgi:group:g", "asgi:group:nobody", "asgi:group:g"], [b"first", b"none", b"second"],
        expire=now + dt.timedelta(minutes=1), now=now))
    assert [(m.channel, bytes(m.message)) for m in Message.objects.order_by("id")] == [
        ("specific.x!a", b"first"), ("specific.x!a", b"second")]
    # Both in one statement: the rows and their pushes.
    third = Notification(user=user, kind="deposit", title="three", created_at=now)
    api_queries.insert_notifications([third], nexus_queries.publish_parameters(
        ["asgi:group:g"], [b"third"], expire=now + dt.timedelta(minutes=1), now=now))
    assert Notification.objects.filter(pk=third.pk).exists()
    assert bytes(Message.objects.order_by("-id").first().message) == b"third"
