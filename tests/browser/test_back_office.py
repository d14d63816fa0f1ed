"""The back office as its staff use it, in a real browser: each flow clicks through the pages a
teller or an analyst would, and saves a screenshot of every page it sees."""

import uuid
from decimal import Decimal

from api import money, roles
from api.models import Account, Approval, Transaction
from api.services import approvals
from api.services.bills import bill_pay
from api.services.transfers import transfer_external
from api.services.users import user_block
from risk.models import Incident
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
