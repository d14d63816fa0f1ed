import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from api import roles
from api.models import Account, IdempotencyRecord, LedgerEntry, Transaction, User
from api.services.transfers import reverse_transaction, transfer_external
from tests.factories import StaffFactory, grant

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["account", "transaction", "ledgerentry", "card", "fxrate", "biller", "billpayment",
               "idempotencyrecord", "user"]


@pytest.fixture
def admin_client(client, staff):
    User.objects.filter(pk=staff.pk).update(is_superuser=True)
    client.force_login(staff)
    return client


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_admin_changelists_render(admin_client, account_factory, model):
    account_factory(funded=Decimal("5.000"))
    assert admin_client.get(f"/admin/api/{model}/").status_code == 200


def test_admin_cannot_edit_a_balance_or_a_ledger_line(admin_client, account_factory):
    account = account_factory(funded=Decimal("5.000"))
    page = admin_client.get(f"/admin/api/account/{account.pk}/change/").content.decode()
    assert 'name="balance"' not in page
    admin_client.post(f"/admin/api/account/{account.pk}/change/", {"balance": "999999", "daily_limit": "1",
                                                                   "is_active": "on", "name": ""})
    account.refresh_from_db()
    assert account.balance == Decimal("5.000")
    entry = LedgerEntry.objects.first()
    assert admin_client.post(f"/admin/api/ledgerentry/{entry.pk}/change/", {"amount": "1"}).status_code == 403
    assert admin_client.post(f"/admin/api/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/api/transaction/add/").status_code == 403


def test_admin_edit_does_not_write_back_a_stale_balance(rf, admin_user, account_factory):
    """The account the change form saves was read before a transfer committed: its balance must survive."""
    from django.contrib.admin.sites import site

    from api.admin import AccountAdmin
    from tests.factories import fund

    account = account_factory(funded=Decimal("5.000"))
    stale = Account.objects.get(pk=account.pk)
    fund(account, Decimal("2.000"))  # commits while the form is being edited
    stale.daily_limit = Decimal("1.000")
    request = rf.post("/")
    request.user = admin_user
    form = type("Form", (), {"cleaned_data": {"daily_limit": Decimal("1.000")}, "changed_data": ["daily_limit"]})
    AccountAdmin(Account, site).save_model(request, stale, form=form, change=True)
    account.refresh_from_db()
    assert (account.balance, account.daily_limit) == (Decimal("7.000"), Decimal("1.000"))


def test_admin_freeze_action_asks_a_reason_confirms_and_audits_it(admin_client, account_factory):
    from api.models import AuditRecord

    account = account_factory()
    house = Account.objects.filter(role=Account.Role.VAULT).first()
    selected = {"action": "freeze", "_selected_action": [account.pk]}
    confirm = admin_client.post("/admin/api/account/", selected).content.decode()
    assert "can neither send nor receive" in confirm and account.pk in confirm and "Freeze now" in confirm
    account.refresh_from_db()
    assert account.is_active  # nothing yet
    blank = admin_client.post("/admin/api/account/", {**selected, "apply": "Freeze now", "reason": "  "})
    assert "This field is required" in blank.content.decode()
    admin_client.post("/admin/api/account/", {**selected, "apply": "Freeze now", "reason": "Card stolen, customer called"})
    account.refresh_from_db()
    assert not account.is_active
    assert LogEntry.objects.get(object_id=account.pk).change_message == "Froze the account: Card stolen, customer called"
    assert AuditRecord.objects.get(object_id=account.pk).changes == {
        "is_active": [True, False], "reason": [None, "Card stolen, customer called"]}
    # A house account in the selection (listed with "held by: Everyone"): nothing changes, with a message that
    # says why (never a 500).
    other = account_factory()
    mixed = {"action": "freeze", "_selected_action": [other.pk, house.pk], "apply": "Freeze now", "reason": "r"}
    page = admin_client.post("/admin/api/account/?holder=all", mixed, follow=True).content.decode()
    assert "Nothing to freeze: the bank&#x27;s own accounts are never frozen" in page
    other.refresh_from_db()
    assert other.is_active


def test_admin_card_list_is_masked(admin_client, user_client, user, account_factory):
    account = account_factory(owner=user)
    number = user_client.post(f"/accounts/{account.pk}/cards/", {"card_type": "DEBIT"}, format="json").json()[
        "card_number"]
    page = admin_client.get("/admin/api/card/").content.decode()
    assert number not in page and f"**** **** **** {number[-4:]}" in page


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Account.objects.count(), Transaction.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Account.objects.count(), Transaction.objects.count()) == counts
    assert User.objects.get(email="staff@nexus.local").is_staff
    assert Account.objects.filter(owner__email="alice@nexus.local").count() == 3
    call_command("verify_ledger")


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not User.objects.filter(email="staff@nexus.local").exists()


def test_purge_idempotency_keeps_at_least_24_hours(user):
    now = timezone.now()
    old = IdempotencyRecord.objects.create(user=user, key="old", fingerprint="x", created_at=now - timedelta(hours=49))
    recent = IdempotencyRecord.objects.create(user=user, key="new", fingerprint="x",
                                              created_at=now - timedelta(hours=23))
    call_command("purge_idempotency", "--hours", "1")  # clamped to 24
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=recent.pk).exists()


def test_every_admin_changelist_search_and_date_drilldown_renders(admin_client, account_factory):
    """Date drill-downs group by expressions with parameters: the kind of query server-side binding can break."""
    from django.contrib import admin

    account_factory(funded=Decimal("5.000"))
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url
        assert admin_client.get(url, {"q": "x"}).status_code == 200, url
        field = model_admin.date_hierarchy
        if field:
            for depth in ({"year": "2026"}, {"year": "2026", "month": "11"}, {"year": "2026", "month": "11", "day": "25"}):
                query = {f"{field}__{part}": value for part, value in depth.items()}
                assert admin_client.get(url, query).status_code == 200, (url, query)


def test_admin_date_inputs_out_of_bounds_are_refused_not_500(admin_client, account_factory):
    """Every admin list that takes dates: the date hierarchy's links (edited to year 1 or 9999),
    lookups typed into the URL, and the business dashboard's range all answer without a 500."""
    from django.contrib import admin

    account_factory(funded=Decimal("5.000"))
    for model, model_admin in admin.site._registry.items():
        field = model_admin.date_hierarchy
        if not field:
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for query in ({"year": "9999"}, {"year": "9999", "month": "12"}, {"year": "9999", "month": "12", "day": "31"},
                      {"year": "1", "month": "1", "day": "1"}, {"year": "1999"}, {"year__gte": "99999"}):
            response = admin_client.get(url, {f"{field}__{part}": value for part, value in query.items()})
            assert response.status_code == 302 and response["Location"].endswith("?e=1"), (url, query)
        assert admin_client.get(url, {f"{field}__year": "2999"}).status_code == 200, url
    dashboard = "/admin/business/dailybusinessmetrics/dashboard/"
    for query in ({"start": "0001-01-01", "end": "9999-12-31"}, {"start": "9999-12-31"}, {"end": "0001-01-01"}):
        assert admin_client.get(dashboard, query).status_code == 200, query


def test_admin_dates_of_record_are_not_inputs(admin_client, user):
    page = admin_client.get(f"/admin/api/user/{user.pk}/change/").content.decode()
    assert 'name="date_joined_0"' not in page and 'name="last_login_0"' not in page


# --- the back office ---------------------------------------------------------------------------

@pytest.fixture
def teller_client(client):
    """A staff user in the Supervisor role: a teller who may also approve, so deposits and reversals
    act at once (the Teller role's requests waiting for approval: test_dual_control_in_the_admin)."""
    client.force_login(StaffFactory(roles=[roles.SUPERVISOR]))
    return client


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_branding_and_view_site_link(teller_client):
    html = page(teller_client.get("/admin/"))
    assert "Nexus Bank back office" in html and "Django administration" not in html
    assert '<a href="/">View site</a>' in html  # the landing page, not Swagger UI
    assert "Make a cash deposit" in html and "Find a customer" in html


def test_account_str_names_house_accounts_and_currencies(account_factory):
    usd = account_factory(type="USD")
    savings = account_factory()
    assert str(usd) == f"{usd.pk} (USD)"
    assert str(savings) == f"{savings.pk} (Savings, JOD)"
    fees = Account(role=Account.Role.FEES, currency="USD", type="USD", account_number="100000000017")
    assert str(fees) == "Fee revenue USD 100000000017"


def test_lists_show_short_ids_owners_and_amounts_in_their_currency(teller_client, account_factory):
    sender = account_factory(type="USD", funded=Decimal("100.00"))
    receiver = account_factory(type="USD")
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal("12.5"))
    html = page(teller_client.get("/admin/api/transaction/"))
    assert f'title="{txn.pk}">{str(txn.pk)[:8]}<' in html
    assert "12.50&nbsp;USD" in html and "12.500" not in html
    assert sender.owner.email in html
    assert "Cash vault USD" in html  # the funding deposit's sender, named by its role
    ledger = page(teller_client.get("/admin/api/ledgerentry/"))
    assert "-12.50&nbsp;USD" in ledger and receiver.owner.email in ledger
    accounts = page(teller_client.get("/admin/api/account/"))
    assert "100.00&nbsp;USD" not in accounts  # sender spent 12.50 + fee: balance shown as it is now
    sender.refresh_from_db()
    assert f"{sender.balance:,.2f}&nbsp;USD" in accounts


def test_transactions_and_ledger_entries_are_found_by_owner_email(teller_client, account_factory):
    alice = account_factory(funded=Decimal("50.000"))
    bob = account_factory(funded=Decimal("70.000"))
    by_email = page(teller_client.get("/admin/api/transaction/", {"q": alice.owner.email}))
    assert alice.pk in by_email and bob.pk not in by_email
    by_part = page(teller_client.get("/admin/api/ledgerentry/", {"q": bob.owner.email.split("@")[0]}))
    assert bob.pk in by_part and alice.pk not in by_part
    assert alice.pk in page(teller_client.get("/admin/api/account/", {"q": alice.owner.email}))


def test_account_page_links_to_its_transactions_and_statement(teller_client, account_factory):
    account = account_factory(funded=Decimal("5.000"))
    other = account_factory(funded=Decimal("6.000"))
    html = page(teller_client.get(f"/admin/api/account/{account.pk}/change/"))
    for url in (f"/admin/api/transaction/?account={account.pk}", f"/admin/api/ledgerentry/?account={account.pk}",
                f"/admin/api/account/deposit/?account={account.pk}"):
        assert url in html
    transactions = page(teller_client.get("/admin/api/transaction/", {"account": account.pk}))
    assert "5.000&nbsp;JOD" in transactions and "6.000&nbsp;JOD" not in transactions
    statement = page(teller_client.get("/admin/api/ledgerentry/", {"account": account.pk}))
    assert "5.000&nbsp;JOD" in statement and other.pk not in statement


def test_transaction_page_links_ledger_lines_and_both_accounts(teller_client, account_factory):
    account = account_factory(funded=Decimal("5.000"))
    txn = Transaction.objects.get(receiver_account=account)
    html = page(teller_client.get(f"/admin/api/transaction/{txn.pk}/change/"))
    assert f"/admin/api/account/{account.pk}/change/" in html
    assert f"/admin/api/account/{txn.sender_account_id}/change/" in html
    assert "Ledger lines (each currency sums to zero)" in html and html.count("5.000&nbsp;JOD") >= 2
    entry = LedgerEntry.objects.filter(transaction=txn).first()
    assert f"/admin/api/transaction/{txn.pk}/change/" in page(teller_client.get(
        f"/admin/api/ledgerentry/{entry.pk}/change/"))


def test_admin_shows_amman_time_and_the_api_keeps_utc(teller_client, staff_client, account_factory):
    account = account_factory(funded=Decimal("5.000"))
    txn = Transaction.objects.get(receiver_account=account)
    Transaction.objects.filter(pk=txn.pk).update(created_at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    html = page(teller_client.get("/admin/api/transaction/"))
    assert "2026-12-01 01:30" in html  # Amman is UTC+3 all year: already 1 December there
    assert page(teller_client.get("/admin/api/transaction/", {"created_at__day": "1", "created_at__month": "12",
                                                              "created_at__year": "2026"})).count(str(txn.pk)[:8])
    api = staff_client.get(f"/transfers/{txn.pk}/").json()
    assert api["created_at"].startswith("2026-11-30T22:30")


def test_bulk_reversal_action_is_gone(teller_client, account_factory):
    account_factory(funded=Decimal("5.000"))
    html = page(teller_client.get("/admin/api/transaction/"))
    assert "reverse_selected" not in html


def _external(account_factory, amount="10.000"):
    sender = account_factory(funded=Decimal("100.000"))
    receiver = account_factory()
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal(amount))
    return sender, receiver, txn


def test_reversal_page_asks_a_reason_confirms_and_reverses(teller_client, account_factory):
    sender, _, txn = _external(account_factory)
    url = f"/admin/api/transaction/{txn.pk}/reverse/"
    assert url in page(teller_client.get(f"/admin/api/transaction/{txn.pk}/change/"))
    assert 'name="reason"' in page(teller_client.get(url))
    missing = page(teller_client.post(url, {"reason": "  "}))
    assert "This field is required." in missing  # blank after trimming
    confirm = page(teller_client.post(url, {"reason": "Customer paid the wrong account"}))
    assert "Reverse now" in confirm and "Customer paid the wrong account" in confirm
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.SUCCESS  # nothing moves before the confirmation
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm).group(1)
    done = teller_client.post(url, {"reason": "Customer paid the wrong account", "idempotency_key": key,
                                    "confirm": "Reverse now"})
    assert done.status_code == 302 and done["Location"] == f"/admin/api/transaction/{txn.pk}/change/"
    txn.refresh_from_db()
    sender.refresh_from_db()
    assert txn.status == Transaction.Status.REVERSED and sender.balance == Decimal("100.000")
    assert txn.reversal.description == "Customer paid the wrong account"
    # A second click on the same confirmation replays it: money moves once, one log line each.
    again = teller_client.post(url, {"reason": "Customer paid the wrong account", "idempotency_key": key,
                                     "confirm": "Reverse now"})
    assert again.status_code == 302
    assert Transaction.objects.filter(reverses=txn).count() == 1
    messages = {entry.change_message for entry in LogEntry.objects.all()}
    assert "Reversed: Customer paid the wrong account" in messages
    assert f"Reversal of {txn.pk}: Customer paid the wrong account" in messages
    assert "Recent actions" in page(teller_client.get("/admin/")) and str(txn.reversal) in page(
        teller_client.get("/admin/"))
    call_command("verify_ledger")


def test_reversal_refusals_are_messages_not_errors(teller_client, account_factory):
    _, receiver, txn = _external(account_factory)
    spent = transfer_external(user=receiver.owner, sender_number=receiver.pk,
                              receiver_number=account_factory().pk, amount=Decimal("5.000"))
    url = f"/admin/api/transaction/{txn.pk}/reverse/"
    confirm = page(teller_client.post(url, {"reason": "Wrong account"}))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm).group(1)
    refused = teller_client.post(url, {"reason": "Wrong account", "idempotency_key": key, "confirm": "1"},
                                 follow=True)
    assert "Not reversed: Insufficient funds." in page(refused)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.SUCCESS
    reversal = reverse_transaction(staff=StaffFactory(), transaction_id=spent.pk, reason="x")
    already = page(teller_client.get(f"/admin/api/transaction/{spent.pk}/reverse/", follow=True))
    assert "already reversed" in already
    assert "itself a reversal" in page(teller_client.get(f"/admin/api/transaction/{reversal.pk}/reverse/",
                                                         follow=True))
    assert f"/admin/api/transaction/{spent.pk}/reverse/" not in page(
        teller_client.get(f"/admin/api/transaction/{spent.pk}/change/"))


def test_deposit_page_finds_by_email_confirms_and_deposits(teller_client, account_factory):
    account = account_factory(type="USD")
    url = "/admin/api/account/deposit/"
    assert 'name="account"' in page(teller_client.get(url, {"account": account.pk}))
    confirm = page(teller_client.post(url, {"account": account.owner.email, "amount": "250.5",
                                            "description": "Counter 3"}))
    assert account.owner.email in confirm and "250.50&nbsp;USD" in confirm and "Confirm deposit" in confirm
    assert not Transaction.objects.filter(receiver_account=account).exists()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm).group(1)
    data = {"account": account.pk, "amount": "250.5", "description": "Counter 3", "idempotency_key": key,
            "confirm": "Confirm deposit"}
    done = teller_client.post(url, data)
    txn = Transaction.objects.get(receiver_account=account)
    assert done.status_code == 302 and done["Location"] == f"/admin/api/transaction/{txn.pk}/change/"
    assert (txn.kind, txn.amount, txn.description) == ("deposit", Decimal("250.50"), "Counter 3")
    assert teller_client.post(url, data).status_code == 302  # a double click replays the first
    account.refresh_from_db()
    assert account.balance == Decimal("250.50") and Transaction.objects.filter(receiver_account=account).count() == 1
    assert LogEntry.objects.get(object_id=str(txn.pk)).change_message.startswith("Cash deposit of 250.50 USD")


@pytest.mark.parametrize(("entered", "amount", "message"), [
    ("000000000000", "10", "No customer has an account numbered 000000000000."),
    ("Khoury", "10", "“Khoury” is neither an account number nor an email: enter the 12 digits of the account, "
                     "or the customer&#x27;s email (find it by name under Accounts)."),
    ("nobody@example.com", "10", "No customer with this email has an account."),
    (None, "ten", "Not a decimal number."),
    (None, "1e3", "Not a decimal number."),
    (None, "-5", "The amount must be greater than zero."),
    (None, "0", "The amount must be greater than zero."),
    (None, "1.234", "USD amounts have at most 2 decimal places."),
    (None, "1000000000.01", "At most 1,000,000,000 in one deposit."),
    (None, "9" * 41, "Ensure this value has at most 40 characters"),
    (None, "50,000", "with a dot for decimals and no thousands separators"),  # 50 or 50,000? never guessed
])
def test_deposit_page_shows_errors_on_the_form(teller_client, account_factory, entered, amount, message):
    account = account_factory(type="USD")
    response = teller_client.post("/admin/api/account/deposit/", {"account": entered or account.pk, "amount": amount})
    assert message in page(response)
    assert not Transaction.objects.filter(receiver_account=account).exists()


def test_the_deposit_page_bound_is_the_apis(teller_client, account_factory, monkeypatch):
    """One bound for one amount (issue 13): the admin once kept its own copy of api.bounds.MAX_AMOUNT."""
    monkeypatch.setattr("api.bounds.MAX_AMOUNT", Decimal("500"))
    account = account_factory(type="USD")
    response = teller_client.post("/admin/api/account/deposit/", {"account": account.pk, "amount": "500.01"})
    assert "At most 500 in one deposit." in page(response)


def test_deposit_page_lists_the_accounts_of_a_customer_with_several(teller_client, account_factory):
    first = account_factory()
    second = account_factory(owner=first.owner, type="EUR")
    html = page(teller_client.post("/admin/api/account/deposit/", {"account": first.owner.email, "amount": "5"}))
    assert "has 2 accounts: choose one below." in html
    assert f"?account={first.pk}&amp;amount=5" in html and f"?account={second.pk}&amp;amount=5" in html


def test_deposit_page_refuses_a_frozen_account_and_a_house_account(teller_client, account_factory):
    account = account_factory()
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert "frozen" in page(teller_client.post("/admin/api/account/deposit/", {"account": account.pk, "amount": "5"}))
    vault = Account.objects.filter(role=Account.Role.VAULT).first() or Account.objects.create(
        role=Account.Role.VAULT, currency="JOD", type="Basic")
    assert f"{vault.pk} is one of the bank&#x27;s own accounts" in page(teller_client.post(
        "/admin/api/account/deposit/", {"account": vault.pk, "amount": "5"}))


def test_deposit_refused_by_the_service_is_shown_on_the_form(teller_client, account_factory):
    account = account_factory()
    confirm = page(teller_client.post("/admin/api/account/deposit/", {"account": account.pk, "amount": "5"}))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm).group(1)
    Account.objects.filter(pk=account.pk).update(is_active=False)  # frozen between the two pages
    html = page(teller_client.post("/admin/api/account/deposit/", {"account": account.pk, "amount": "5",
                                                                   "idempotency_key": key, "confirm": "1"}))
    assert "frozen" in html
    assert not Transaction.objects.filter(receiver_account=account).exists()


def test_custom_pages_need_their_permission(client, account_factory):
    _, _, txn = _external(account_factory)
    viewer = grant(StaffFactory(roles=[]), "api.view_account", "api.view_transaction")
    client.force_login(viewer)
    assert client.get("/admin/api/account/deposit/").status_code == 403
    assert client.get(f"/admin/api/transaction/{txn.pk}/reverse/").status_code == 403
    assert "Reverse</a>" not in page(client.get(f"/admin/api/transaction/{txn.pk}/change/"))
    assert "Make a cash deposit" not in page(client.get("/admin/"))
    client.force_login(StaffFactory(roles=[]))  # staff without any permission sees nothing to act on
    assert client.get("/admin/api/account/deposit/").status_code == 403


@pytest.mark.parametrize("url", ["/admin/api/transaction/", "/admin/api/ledgerentry/", "/admin/api/account/",
                                 "/admin/api/billpayment/", "/admin/api/card/"])
def test_lists_cost_the_same_queries_for_more_rows(admin_client, account_factory, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nexus import refcache

    def queries():
        refcache.clear()  # reference data is re-read every few seconds: one query more or less by chance
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    _external(account_factory)
    queries()  # the first request also fills per-process caches
    few = queries()
    for _ in range(4):
        _external(account_factory)
    assert queries() == few


def test_dual_control_in_the_admin(client, account_factory):
    """A teller's reversal and large deposit are requests; a supervisor approves one and rejects the
    other on the request's page; the teller cannot decide; all of it is in the audit trail."""
    from api.models import Approval, AuditRecord

    teller, supervisor = StaffFactory(roles=[roles.TELLER]), StaffFactory(roles=[roles.SUPERVISOR])
    _, _, txn = _external(account_factory)
    account = account_factory(type=Account.Type.SAVINGS)
    client.force_login(teller)
    url = f"/admin/api/transaction/{txn.pk}/reverse/"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page(client.post(url, {"reason": "Wrong payee"}))).group(1)
    held = client.post(url, {"reason": "Wrong payee", "idempotency_key": key, "confirm": "1"}, follow=True)
    assert "waits for a supervisor" in page(held)
    reversal = Approval.objects.get(action="reversal")
    assert Transaction.objects.get(pk=txn.pk).status == Transaction.Status.SUCCESS
    deposit = "/admin/api/account/deposit/"
    confirm = page(client.post(deposit, {"account": account.pk, "amount": "20000"}))
    assert "waits for a\n  supervisor's approval" in confirm  # said before the teller confirms
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm).group(1)
    client.post(deposit, {"account": account.pk, "amount": "20000", "idempotency_key": key, "confirm": "1"})
    big = Approval.objects.get(action="deposit")
    decide = f"/admin/api/approval/{reversal.pk}/decide/"
    assert client.get(decide).status_code == 403
    assert "Approve or reject" not in page(client.get(f"/admin/api/approval/{reversal.pk}/change/"))

    client.force_login(supervisor)
    assert "Approve or reject" in page(client.get(f"/admin/api/approval/{reversal.pk}/change/"))
    assert "This field is required" in page(client.post(f"/admin/api/approval/{big.pk}/decide/", {"reject": "1", "reason": " "}))
    client.post(f"/admin/api/approval/{big.pk}/decide/", {"reject": "1", "reason": "No cash received"})
    client.post(decide, {"approve": "1"})
    assert Transaction.objects.get(pk=txn.pk).status == Transaction.Status.REVERSED
    assert list(Approval.objects.order_by("created_at").values_list("status", flat=True)) == ["approved", "rejected"]
    account.refresh_from_db()
    assert account.balance == 0
    assert set(AuditRecord.objects.values_list("action", flat=True)) >= {
        "approval_request", "approval_approve", "approval_reject", "reversal"}
    # The audit trail is read-only for everyone, a superuser included.
    client.force_login(StaffFactory(is_superuser=True))
    record = AuditRecord.objects.first()
    assert client.get("/admin/api/auditrecord/").status_code == 200
    assert client.post(f"/admin/api/auditrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_changes_are_audited(client, account_factory):
    from django.contrib.auth.models import Group

    from api.models import AuditRecord, FxRate

    client.force_login(StaffFactory(is_superuser=True))
    account = account_factory(type=Account.Type.SAVINGS)
    url = f"/admin/api/account/{account.pk}/change/"
    unexplained = client.post(url, {"daily_limit": "500.000", "is_active": "on"})
    assert "Say why" in unexplained.content.decode()  # a change of limit or state needs its reason
    client.post(url, {"daily_limit": "500.000", "is_active": "on", "reason": "Customer asked, branch visit"})
    assert AuditRecord.objects.filter(action="account_update", object_id=account.pk).get().changes == {
        "daily_limit": ["10000.000", "500.000"], "reason": [None, "Customer asked, branch visit"]}
    client.post("/admin/api/fxrate/add/", {"currency": "USD", "rate": "1.420000",
                                           "effective_from_0": "2026-01-01", "effective_from_1": "00:00:00"})
    assert FxRate.objects.filter(rate=Decimal("1.42")).exists()
    assert AuditRecord.objects.get(action="fx_rate_change").changes["rate"][1] == "1.420000"
    user = User.objects.create_user(email="promote@example.com", password="x" * 20)
    change = client.get(f"/admin/api/user/{user.pk}/change/")
    assert change.status_code == 200
    teller_group = Group.objects.get(name=roles.TELLER)
    client.post(f"/admin/api/user/{user.pk}/change/", {
        "email": user.email, "first_name": "", "last_name": "", "country": "", "is_active": "on",
        "is_staff": "on", "groups": [teller_group.pk]})
    record = AuditRecord.objects.get(action="user_update")
    assert (record.object_id, record.changes) == (user.email, {"is_staff": [False, True]})
    record = AuditRecord.objects.get(action="role_change")  # v1.3: privileges apart from flags
    assert (record.object_id, record.changes) == (user.email, {"groups": [[], ["Teller"]]})
