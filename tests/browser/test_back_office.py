"""The back office as its staff use it, in a real browser: each flow clicks through the pages a
teller or an analyst would, and saves a screenshot of every page it sees."""

import datetime as dt
import uuid
from decimal import Decimal

import time_machine
from django.contrib import admin
from django.utils import timezone

from api import money, roles
from api.models import Account, Approval, Card, FxRate, Transaction
from api.services import approvals
from api.services.accounts import card_issue
from api.services.bills import bill_pay
from api.services.transfers import transfer_external, transfer_internal
from api.services.users import user_block
from business.services import record_activity
from risk.models import BlockedIP, Incident, LoginEvent
from tests.factories import PASSWORD, AccountFactory, BillerFactory, StaffFactory, UserFactory, enrol


def customer(first_name: str, *types: str, funded: str = "1000"):
    """A customer whose accounts of these types each hold ``funded`` in their own currency."""
    user = UserFactory(email=f"{first_name.lower()}@example.com", first_name=first_name, last_name="Haddad")
    accounts = [AccountFactory(owner=user, type=kind, funded=money.quantize(Decimal(funded), Account.TYPE_CURRENCY[kind]))
                for kind in types]
    return user, accounts


def test_teller_finds_a_customer_by_email_and_deposits_with_confirmation(browser):
    teller = StaffFactory(email="teller@nexus.example", roles=[roles.TELLER])
    alice, (savings, usd) = customer("Alice", "Savings", "USD")
    customer("Bob", "Savings")

    browser.login(teller)
    browser.screenshot("01-home-teller")
    assert "Nexus Bank back office" in browser.text("#header")
    browser.click_link("Find a customer's account", "#result_list")
    browser.type("#searchbar", "alice@example")
    browser.click_and_wait('#changelist-search input[type="submit"]', "#result_list")
    browser.screenshot("02-accounts-search-by-email")
    rows = browser.text("#result_list tbody")
    assert savings.pk in rows and usd.pk in rows and "bob@" not in rows
    browser.assert_no_horizontal_scroll("accounts list")

    browser.click_and_wait(f'a[href$="/admin/api/account/deposit/?account={usd.pk}"]', "#deposit_form")
    assert browser.find("#id_account").get_attribute("value") == usd.pk
    browser.type("#id_amount", "150.255")  # one decimal too many for USD
    browser.click_and_wait('#deposit_form input[type="submit"]', "#deposit_form")
    assert "USD amounts have at most 2 decimal places." in browser.text()
    browser.screenshot("03-deposit-form-error")
    browser.type("#id_amount", "150.25")
    browser.type("#id_description", "Cash at counter 2")
    browser.screenshot("04-deposit-form")
    browser.click_and_wait('#deposit_form input[type="submit"]', "#deposit_confirm_form")
    summary = browser.text("#content")
    assert "alice@example.com" in summary and "USD" in summary and "150.25 USD" in summary
    assert not Transaction.objects.filter(receiver_account=usd, kind="deposit", amount=Decimal("150.25")).exists()
    browser.screenshot("05-deposit-confirm")

    browser.click_and_wait('input[name="confirm"]', ".messagelist")
    assert "Deposited 150.25 USD" in browser.text(".messagelist")
    usd.refresh_from_db()
    assert usd.balance == Decimal("1150.25")
    browser.screenshot("06-deposit-done-transaction")
    browser.open("/admin/")
    assert str(Transaction.objects.get(amount=Decimal("150.25"))) in browser.text("#recent-actions-module")
    browser.screenshot("07-home-recent-actions")

    # Above the dual-control threshold the confirmation says, before anything happens, that it will wait.
    browser.click_link("Make a cash deposit", "#deposit_form")
    browser.type("#id_account", savings.pk)
    browser.type("#id_amount", "12000")
    browser.click_and_wait('#deposit_form input[type="submit"]', "#deposit_confirm_form")
    assert "waits for a supervisor's approval, and the money is credited only then" in browser.text("#deposit-held")
    assert "Balance once approved" in browser.text("#deposit-summary")
    assert browser.find('input[name="confirm"]').get_attribute("value") == "Request the deposit"
    browser.screenshot("08-deposit-confirm-held")
    browser.click_and_wait('input[name="confirm"]', ".messagelist")
    assert "12,000.000 JOD" in browser.text(".messagelist") and "no money has moved yet" in browser.text(".messagelist")
    browser.screenshot("09-deposit-held")
    savings.refresh_from_db()
    assert savings.balance == Decimal("1000.000")


def test_teller_requests_a_reversal_and_a_supervisor_approves_it_from_the_queue(browser):
    teller = StaffFactory(email="teller@nexus.example", roles=[roles.TELLER])
    supervisor = StaffFactory(email="supervisor@nexus.example", roles=[roles.SUPERVISOR])
    _, (sender,) = customer("Alice", "Savings")
    _, (receiver,) = customer("Bob", "Savings")
    txn = transfer_external(user=sender.owner, sender_number=sender.pk, receiver_number=receiver.pk,
                            amount=Decimal("75.500"), description="Rent, wrong account")
    # A request already waits: another teller's large deposit, asked earlier.
    older = approvals.staff_deposit(staff=StaffFactory(email="teller2@nexus.example", roles=[roles.TELLER]),
                                    account_number=receiver.pk, amount=Decimal("12000.000"), description="Cash")

    browser.login(teller)
    browser.open("/admin/api/transaction/")
    browser.type("#searchbar", "alice@example.com")
    browser.click_and_wait('#changelist-search input[type="submit"]', "#result_list")
    browser.assert_no_horizontal_scroll("transactions list")
    browser.screenshot("10-transactions-search-by-email")
    browser.click_and_wait(f'a[href^="/admin/api/transaction/{txn.pk}/change/"]', "#reverse-link")
    browser.screenshot("11-transaction-page")
    assert "ledger lines" in browser.text().lower() and "-75.500 JOD" in browser.text()

    browser.click_and_wait("#reverse-link", "#reverse_form")
    browser.click_and_wait('#reverse_form input[type="submit"]', "#reverse_form")
    assert "This field is required." in browser.text()
    browser.type("#id_reason", "Customer sent the rent to the wrong account")
    browser.screenshot("12-reverse-form")
    browser.click_and_wait('#reverse_form input[type="submit"]', "#reverse_confirm_form")
    assert "Customer sent the rent to the wrong account" in browser.text("#reversal-reason")
    # Said before confirming: a teller's reversal is a request, held for a supervisor.
    assert "the money goes back only when a supervisor approves it" in browser.text("#reversal-held")
    assert "at once" not in browser.text(".nx-confirm")
    assert browser.find('input[name="confirm"]').get_attribute("value") == "Request the reversal"
    browser.screenshot("13-reverse-confirm")
    browser.click_and_wait('input[name="confirm"]', ".messagelist")
    assert "waits for a supervisor's approval" in browser.text(".messagelist")
    # The request names who asked, and who is to act: not the teller.
    assert browser.text(".field-requested").endswith("teller@nexus.example")
    assert "a supervisor other than the requester" in browser.text(".field-decided")
    browser.screenshot("14-reversal-requested")
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.SUCCESS  # four eyes: nothing moved yet
    assert not browser.find_all("#decide-link")  # the requester cannot decide
    reversal = Approval.objects.get(action=Approval.Action.REVERSAL)

    browser.login(supervisor)
    browser.click_link("Requests awaiting approval", "#result_list")
    browser.screenshot("15-approvals-pending")
    browser.assert_no_horizontal_scroll("approvals queue")
    rows = [row.text for row in browser.find_all("#result_list tbody tr")]
    assert len(rows) == 2 and "12,000.000" in rows[0] and "75.500" in rows[1]  # oldest first
    assert "teller2@nexus.example" in rows[0] and "teller@nexus.example" in rows[1]
    assert browser.find_all(f'a[href="/admin/api/approval/{older.pk}/decide/"]')
    browser.click_and_wait(f'#result_list a[href="/admin/api/approval/{reversal.pk}/decide/"]', "#approve_form")
    assert "Customer sent the rent to the wrong account" in browser.text("#approval-summary")
    browser.screenshot("16-approval-decide")
    browser.click_and_wait('#approve_form input[name="approve"]', ".messagelist")
    assert "Approved: reversal of 75.500 JOD done" in browser.text(".messagelist")
    # The reversal was made in the teller's name, and says who approved it.
    assert "teller@nexus.example" in browser.text(".field-initiated_by_email")
    assert "supervisor@nexus.example" in browser.text(".field-approved_by")
    txn.refresh_from_db()
    sender.refresh_from_db()
    assert txn.status == Transaction.Status.REVERSED and sender.balance == Decimal("1000.000")
    browser.screenshot("17-reversal-approved")


def test_risk_analyst_resolves_an_incident_with_a_note(browser):
    analyst = StaffFactory(email="analyst@nexus.example", roles=[roles.RISK_ANALYST])
    alice, (account,) = customer("Alice", "Savings")
    _, (other,) = customer("Bob", "Savings")
    txn = transfer_external(user=alice, sender_number=account.pk, receiver_number=other.pk, amount=Decimal("1.000"))
    velocity = Incident.objects.create(
        code="velocity", event="Transfer velocity", severity=Incident.Severity.HIGH, user=alice,
        subject=str(alice.pk), dedup_key=uuid.uuid4().hex, ip="203.0.113.9", country="JO",
        details={"count_15m": 11, "amount_15m_jod": "51000.000", "transaction_id": str(txn.pk)})
    brute = Incident.objects.create(
        code="brute_force", event="Brute force", severity=Incident.Severity.MEDIUM, subject="bob@example.com",
        dedup_key=uuid.uuid4().hex, ip="198.51.100.4", details={"email": "bob@example.com", "failed_attempts_10m": 6})

    browser.login(analyst)
    browser.click_link("Open incidents", "#result_list")
    browser.assert_no_horizontal_scroll("incidents list")
    browser.screenshot("20-incidents-open")
    browser.click_and_wait(f'a[href^="/admin/risk/incident/{velocity.pk}/change/"]', "#incident-resolve")
    page = browser.text()
    assert "Transfer velocity — alice@example.com" in page and "Count 15m" in page and "Delete" not in page
    assert browser.find(f'a[href^="/admin/api/transaction/{txn.pk}/change/"]')
    browser.screenshot("21-incident-page")

    browser.click_and_wait("#incident-resolve", "#incident_status_form")
    browser.click_and_wait('input[name="apply"]', "#incident_status_form")
    assert "This field is required." in browser.text()
    browser.type("#id_note", "Customer confirmed the transfers by phone; no fraud.")
    browser.screenshot("22-incident-resolve-note")
    browser.click_and_wait('input[name="apply"]', ".messagelist")
    velocity.refresh_from_db()
    assert velocity.status == Incident.Status.RESOLVED and "no fraud" in velocity.note
    browser.screenshot("23-incident-resolved")

    browser.open("/admin/risk/incident/")
    browser.find(f'input[name="_selected_action"][value="{brute.pk}"]').click()
    browser.choose('select[name="action"]', "acknowledge")
    browser.click_and_wait('button[name="index"]', "#incident_status_form")
    browser.type("#id_note", "Watching this IP.")
    browser.screenshot("24-incidents-bulk-note")
    browser.click_and_wait('input[name="apply"]', ".messagelist")
    assert "1 incident marked acknowledged." in browser.text(".messagelist")
    brute.refresh_from_db()
    assert brute.status == Incident.Status.ACKNOWLEDGED and brute.note == "Watching this IP."
    browser.screenshot("25-incidents-after-bulk")


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


def test_supervisor_reads_a_customers_page_and_blocks_them(browser):
    supervisor = StaffFactory(email="supervisor@nexus.example", roles=[roles.SUPERVISOR])
    alice, (savings,) = customer("Alice", "Savings")
    _, (bob_savings,) = customer("Bob", "Savings")
    enrol(alice)
    transfer_external(user=alice, sender_number=savings.pk, receiver_number=bob_savings.pk, amount=Decimal("75.500"),
                      description="Rent")
    biller = BillerFactory(name="Jordan Electric")
    bill_pay(user=alice, account_number=savings.pk, biller_id=biller.pk, amount=Decimal("35.250"),
             reference="INV-2026-0042")

    browser.login(supervisor)
    browser.open("/admin/api/user/")
    browser.type("#searchbar", "alice@example")
    browser.click_and_wait('#changelist-search input[type="submit"]', "#result_list")
    browser.click_and_wait('#result_list a[href*="/admin/api/user/"]', "#notifications-table")
    notifications = browser.text("#notifications-table")
    assert f"75.500 JOD sent from {savings.pk} to {bob_savings.pk}." in notifications
    assert "Money sent Money sent" not in notifications and "Unread" in notifications
    assert "On since" in browser.text() and "10 of 10 recovery codes unused" in browser.text()
    browser.screenshot("50-customer-page")

    browser.click_and_wait("#block-link", "#user_control_form")
    assert browser.text("h1") == "Block Alice Haddad (alice@example.com)"
    browser.click_and_wait('#user_control_form input[type="submit"]', "#user_control_form")
    assert "This field is required." in browser.text()
    browser.type("#id_reason", "Phone stolen, reported by the customer at the branch")
    browser.screenshot("51-block-form")
    browser.click_and_wait('#user_control_form input[type="submit"]', "#user_control_confirm_form")
    assert browser.text("h1") == "Confirm: Block Alice Haddad (alice@example.com)"
    assert browser.text("#control-user") == "Alice Haddad (alice@example.com)"
    browser.screenshot("52-block-confirm")
    browser.click_and_wait('input[name="confirm"]', ".messagelist")
    assert "Blocked: Alice Haddad (alice@example.com)." in browser.text(".messagelist")
    assert "Blocked since" in browser.text() and "Phone stolen" in browser.text()
    browser.screenshot("53-customer-blocked")

    browser.open("/admin/api/user/?blocked=yes")
    assert browser.text("#result_list tbody td.field-blocked_cell").startswith("Blocked since ")
    browser.screenshot("54-users-blocked")
    browser.open("/admin/")
    assert "Blocked: Phone stolen" in browser.text("#recent-actions-module")
    browser.screenshot("55-home-recent-actions-block")

    browser.open("/admin/api/auditrecord/")
    assert browser.text("h1") == "You do not have permission to view this page"
    browser.screenshot("56-forbidden", status=403)
    browser.click_and_wait("#back-to-admin", "#nx-quick-links")


def test_a_blocked_staff_member_is_told_so_at_the_login(browser):
    teller = StaffFactory(email="teller@nexus.example", roles=[roles.TELLER])
    user_block(actor=StaffFactory(roles=[roles.SUPERVISOR]), user_id=teller.pk, reason="Left the bank")
    browser.open("/admin/login/")
    browser.type("#id_username", teller.email)
    browser.type("#id_password", PASSWORD)
    browser.click_and_wait('input[type="submit"]', ".errornote")
    assert "This account is blocked by the bank. Contact a supervisor" in browser.text(".errornote")
    browser.screenshot("57-login-blocked")
