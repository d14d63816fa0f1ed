"""Contract v1.3: lists page by cursor, and a client walking one while new items arrive never sees an item
twice and never misses one that existed when it started (nexus.pagination.CursorPagination).

Each list is walked page by page (``next`` as given, 3 items a page) while another thread inserts into it
through the real services, against PostgreSQL. With offset pages, every insert shifted the rest of the
list by one: page 2 began with the last line of page 1.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from api.models import AuditRecord, Transaction
from api.services.audit import audit
from api.services.transfers import transfer_external
from risk.models import Incident, LoginEvent
from tests.conftest import auth_client
from tests.factories import AccountFactory, StaffFactory, UserFactory, fund

pytestmark = pytest.mark.django_db(transaction=True)
EXISTING = 12  # items before the walk: four pages of three


def walk(client, url: str, key: str, insert) -> tuple[list, list]:
    """Every id seen walking ``url`` while ``insert`` runs in a thread between and during the requests."""
    stop = threading.Event()

    def keep_inserting():
        try:
            while not stop.is_set():
                insert()
                time.sleep(0.005)
        finally:
            close_old_connections()
            connection.close()

    inserter = threading.Thread(target=keep_inserting)
    inserter.start()
    seen, pages = [], 0
    try:
        page = client.get(url, {"page_size": 3}).json()
        while True:
            pages += 1
            seen += [item[key] for item in page["results"]]
            if not page["next"]:
                break
            time.sleep(0.02)  # the inserter commits between the pages too
            page = client.get(page["next"]).json()
    finally:
        stop.set()
        inserter.join()
    return seen, pages


def check(seen: list, existing: list) -> None:
    assert len(seen) == len(set(seen)), "an item was seen twice"
    assert set(existing) <= set(seen), "an item that existed at the start was missed"


def test_a_statement_walked_while_transfers_land(db):
    owner, other = UserFactory(), UserFactory()
    account = AccountFactory(owner=owner, funded=Decimal("1000"))
    for _ in range(EXISTING - 1):
        fund(account, Decimal("1"))
    existing = [str(pk) for pk in account.entries.values_list("transaction_id", flat=True)]
    sink = AccountFactory(owner=other)

    def insert():
        transfer_external(user=owner, sender_number=account.pk, receiver_number=sink.pk, amount=Decimal("0.001"),
                          description="", idempotency_key=None)

    seen, pages = walk(auth_client(owner), f"/accounts/{account.pk}/transactions/", "transaction_id", insert)
    # A transfer makes two lines on the sender's statement (the amount and the fee): count lines by position.
    assert pages >= EXISTING // 3
    assert set(existing) <= set(seen)
    lines = [line for line in seen if line in existing]
    assert len(lines) == len(set(lines)), "a line that existed at the start was seen twice"


def test_transfers_and_notifications_walked_while_transfers_land(db):
    owner, other = UserFactory(), UserFactory()
    account = AccountFactory(owner=owner, funded=Decimal("1000"))
    sink = AccountFactory(owner=other)

    def insert():
        transfer_external(user=owner, sender_number=account.pk, receiver_number=sink.pk, amount=Decimal("0.001"),
                          description="", idempotency_key=None)

    for _ in range(EXISTING):
        insert()
    transfers = [str(pk) for pk in Transaction.objects.filter(kind="external").values_list("pk", flat=True)]
    notes = [str(pk) for pk in owner.notifications.values_list("pk", flat=True)]
    client = auth_client(owner)
    check(walk(client, "/transfers/external/", "id", insert)[0], transfers)
    check(walk(client, "/notifications/", "id", insert)[0], notes)


def test_staff_lists_walked_while_they_grow(db):
    staff = StaffFactory(is_superuser=True)
    client = auth_client(staff)

    def new_audit():
        audit(actor=staff, action="user_update", object_type="user", object_id="x", changes={"a": [1, 2]})

    def new_incident():
        Incident.objects.create(code="velocity", event="e", severity="high", subject=str(time.monotonic_ns()),
                                dedup_key=str(time.monotonic_ns()), timestamp=timezone.now())

    def new_login():
        LoginEvent.objects.create(attempted_email="a@example.com", ip="203.0.113.9", successful=False)

    for url, insert, model in (("/audit/", new_audit, AuditRecord), ("/risk/incidents/", new_incident, Incident),
                               ("/risk/login-events/", new_login, LoginEvent)):
        for _ in range(EXISTING):
            insert()
        existing = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
        seen = [str(item) for item in walk(client, url, "id", insert)[0]]
        check(seen, existing)
