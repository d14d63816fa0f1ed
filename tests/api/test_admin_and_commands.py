from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.models import Account, IdempotencyRecord, LedgerEntry, Transaction, User
from api.services.transfers import transfer_external

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
    AccountAdmin(Account, site).save_model(rf.post("/"), stale, form=None, change=True)
    account.refresh_from_db()
    assert (account.balance, account.daily_limit) == (Decimal("7.000"), Decimal("1.000"))


def test_admin_freeze_action(admin_client, account_factory):
    account = account_factory()
    admin_client.post("/admin/api/account/", {"action": "freeze", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert not account.is_active


def test_admin_reverse_action(admin_client, account_factory):
    sender = account_factory(funded=Decimal("100.000"))
    receiver = account_factory()
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal("10.000"))
    admin_client.post("/admin/api/transaction/", {"action": "reverse_selected", "_selected_action": [str(txn.pk)]})
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.REVERSED
    sender.refresh_from_db()
    assert sender.balance == Decimal("100.000")
    call_command("verify_ledger")


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
