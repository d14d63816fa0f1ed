"""Every page of the back office, in a real browser: the dashboard's charts and every list page at a
laptop's width, each saved as a screenshot (split from test_back_office.py so that the two run side by
side)."""

import datetime as dt
import uuid
from decimal import Decimal

import time_machine
from django.contrib import admin
from django.utils import timezone

from api import roles
from api.models import Account, Card, FxRate
from api.services.accounts import card_issue
from api.services.bills import bill_pay
from api.services.transfers import transfer_external, transfer_internal
from business.services import record_activity
from risk.models import BlockedIP, Incident, LoginEvent
from tests.browser.test_back_office import customer
from tests.factories import AccountFactory, BillerFactory, StaffFactory


def _history():
    """A month of activity in three currencies, made by the services themselves on past days."""
    _, (jod, usd, eur) = customer("Alice", "Savings", "USD", "EUR", funded="90000")
    bob, (bob_jod, bob_usd, bob_eur) = customer("Bob", "Savings", "USD", "EUR")
    now = timezone.now()
    for days_ago, jod_amount, usd_count in ((27, "1200.000", 1), (20, "300.000", 2), (13, "2450.500", 0),
                                            (9, "800.000", 3), (4, "150.000", 1), (1, "990.000", 2),
                                            (0, "420.000", 1)):
        with time_machine.travel(now - dt.timedelta(days=days_ago), tick=True):
            transfer_external(user=jod.owner, sender_number=jod.pk, receiver_number=bob_jod.pk,
                              amount=Decimal(jod_amount))
            for _ in range(usd_count):
                transfer_external(user=usd.owner, sender_number=usd.pk, receiver_number=bob_usd.pk,
                                  amount=Decimal("40.00"))
            if days_ago % 2:
                transfer_external(user=eur.owner, sender_number=eur.pk, receiver_number=bob_eur.pk,
                                  amount=Decimal("25.00"))
            record_activity(user=jod.owner)
            if days_ago < 10:
                record_activity(user=bob)
    # Each closed day's figures are stored by the job worker's nightly schedule (business.housekeeping).
    from business import services as business

    for days_ago in range(1, 31):
        business.rollup(business.today() - dt.timedelta(days=days_ago))


def test_dashboard_renders_its_charts_and_refuses_a_bad_range(browser):
    _history()
    manager = StaffFactory(email="auditor@nexus.example", roles=[roles.AUDITOR])
    browser.login(manager)
    browser.click_link("Business dashboard", ".charts")
    charts = browser.find_all('.chart svg[role="img"]')
    assert len(charts) == 4
    for chart in charts:
        assert chart.find_elements("css selector", "line.grid") and chart.find_elements("css selector", "text.x-label")
    assert len(browser.find_all(".charts rect")) == 3 * 30
    assert browser.find("#id_start").get_attribute("value") and browser.find("#id_end").get_attribute("value")
    browser.screenshot("30-dashboard")

    browser.open("/admin/business/dailybusinessmetrics/dashboard/?start=2024-01-01&end=2025-12-31")
    assert "at most 366" in browser.text("#dashboard-errors") and not browser.find_all(".charts")
    browser.screenshot("31-dashboard-range-too-long")
    browser.open("/admin/business/dailybusinessmetrics/dashboard/?start=2026-02-30&end=2026-03-01")
    assert "Enter a valid date." in browser.text("#dashboard-errors")
    browser.open("/admin/business/dailybusinessmetrics/")
    assert browser.text("#result_list tbody tr td.field-transfers") != "0"
    browser.screenshot("32-daily-metrics-list")


def _everything():
    """One of each record, so that every list has rows to show."""
    _history()
    alice, (account,) = customer("Carol", "Salary")
    card_issue(account=account, card_type=Card.Type.DEBIT)
    biller = BillerFactory(name="Jordan Electric")
    bill_pay(user=alice, account_number=account.pk, biller_id=biller.pk, amount=Decimal("35.250"),
             reference="INV-2026-0042")
    second = AccountFactory(owner=alice, type="USD")
    transfer_internal(user=alice, sender_number=account.pk, receiver_number=second.pk, amount=Decimal("10.000"))
    FxRate.objects.create(currency="USD", rate=Decimal("1.410000"))
    Incident.objects.create(code="impossible_travel", event="Impossible travel", severity=Incident.Severity.CRITICAL,
                            user=alice, subject=str(alice.pk), dedup_key=uuid.uuid4().hex, ip="192.0.2.10",
                            country="DE", details={"previous_country": "JO", "new_country": "DE", "minutes": 12})
    LoginEvent.objects.create(attempted_email=alice.email, ip="192.0.2.10", country="DE", successful=True, user=alice)
    LoginEvent.objects.create(attempted_email="mallory@example.com", ip="198.51.100.4", successful=False)
    BlockedIP.objects.create(cidr="198.51.100.0/24", reason="Credential stuffing")


def test_every_list_page_renders_at_1400_px(browser):
    _everything()
    root = StaffFactory(email="root@nexus.example", is_superuser=True)
    browser.login(root)
    browser.screenshot("40-home-superuser")
    for model in admin.site._registry:
        name = f"{model._meta.app_label}_{model._meta.model_name}"
        browser.open(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        assert browser.find_all("#changelist"), name
        browser.screenshot(f"list-{name}")
        browser.assert_no_horizontal_scroll(name)
    house = Account.objects.filter(role=Account.Role.FEES).first()
    browser.open(f"/admin/api/account/{house.pk}/change/")
    assert "Fee revenue JOD" in browser.text()
    browser.screenshot("41-house-account-page")
    browser.open(f"/admin/api/account/{Account.objects.get(owner__email='carol@example.com', type='Salary').pk}/change/")
    browser.screenshot("42-customer-account-page")
    browser.click_link("Statement", "#result_list")
    browser.screenshot("43-account-statement")
