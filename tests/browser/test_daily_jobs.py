"""The daily jobs of each role (issue 20, items 4–12) walked in a real browser: the supervisor freezing an
account, the risk analyst from an incident to the lockout it caused, and the auditor, who reads everything
and is offered nothing they cannot do. (The teller's deposit and reversal, and the supervisor's approval
from the queue, are in test_back_office.py.)"""

import uuid
from decimal import Decimal
from urllib.parse import urlsplit

from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from api import roles
from api.models import Approval
from api.services import approvals
from api.services.transfers import transfer_external
from risk.models import Incident
from tests.factories import PASSWORD, StaffFactory

from .test_back_office import customer

ATTACKER = "203.0.113.9"


def fail_logins(email: str, times: int = 5) -> None:
    """Someone guesses the password from one address: a lockout of that pair, and a brute-force incident."""
    for _ in range(times):
        APIClient().post("/auth/jwt/create/", {"email": email, "password": "wrong-password-000"}, format="json",
                         REMOTE_ADDR=ATTACKER)


def test_supervisor_freezes_an_account_with_a_reason(browser):
    supervisor = StaffFactory(email="supervisor@nexus.example", roles=[roles.SUPERVISOR])
    _, (savings, usd) = customer("Alice", "Savings", "USD")
    customer("Bob", "Savings")

    browser.login(supervisor)
    browser.click_link("Find a customer's account", "#result_list")
    browser.type("#searchbar", "Alice Haddad")  # a name, as the customer gives it at the counter
    browser.click_and_wait('#changelist-search input[type="submit"]', "#result_list")
    assert savings.pk in browser.text("#result_list") and "bob@" not in browser.text("#result_list")
    browser.find(f'input[name="_selected_action"][value="{savings.pk}"]').click()
    browser.choose('select[name="action"]', "freeze")
    browser.click_and_wait('button[name="index"]', "#set_active_form")
    assert browser.text("h1") == "Freeze 1 account"
    assert savings.pk in browser.text("#set-active-accounts") and usd.pk not in browser.text("#set-active-accounts")
    assert "can neither send nor receive money until someone unfreezes them" in browser.text()
    browser.click_and_wait('input[name="apply"]', "#set_active_form")
    assert "This field is required." in browser.text()
    browser.type("#id_reason", "Card and phone stolen, customer called the branch")
    browser.screenshot("60-freeze-reason")
    browser.click_and_wait('input[name="apply"]', ".messagelist")
    assert browser.text(".messagelist") == "Froze 1 account."
    savings.refresh_from_db()
    usd.refresh_from_db()
    assert not savings.is_active and usd.is_active
    browser.screenshot("61-frozen")
    browser.click_and_wait(f'#result_list a[href^="/admin/api/account/{savings.pk}/change/"]', "#account_form")
    assert not browser.find("#id_is_active").is_selected()  # a supervisor may unfreeze: the box, unticked
    assert not browser.find_all("a[href^='/admin/api/account/deposit/']")  # no deposit desk for a frozen account
    browser.screenshot("62-frozen-account-page")
    # A word typed where a number goes reaches the server, which says it is not a number (a browser's number
    # input would send nothing, and the page would say "This field is required.").
    browser.type("#id_daily_limit", "abc")
    browser.type("#id_reason", "Customer asked for a higher limit")
    browser.click_and_wait('input[name="_continue"]', "#account_form")
    assert "Not a number" in browser.text() and "This field is required" not in browser.text()
    browser.screenshot("63-limit-not-a-number")


def test_risk_analyst_goes_from_a_brute_force_incident_to_its_lockout_and_unlocks_it(browser):
    analyst = StaffFactory(email="analyst@nexus.example", roles=[roles.RISK_ANALYST])
    carol, _ = customer("Carol", "Savings")
    fail_logins(carol.email)
    incident = Incident.objects.get(code="brute_force")

    browser.login(analyst)
    browser.click_link("Open incidents", "#result_list")
    row = browser.text(f'#result_list tr:has(a[href^="/admin/risk/incident/{incident.pk}/change/"])')
    assert "carol@example.com" in row and ATTACKER in row  # whom it is about, and from where
    browser.screenshot("70-incidents-brute-force")
    browser.click_and_wait(f'#result_list a[href^="/admin/risk/incident/{incident.pk}/change/"]', "#incident-resolve")
    tools = browser.text(".object-tools").lower()  # the buttons' capitals are a style
    for action in ("Open the user (block, end sessions)", "Login lockouts", "Block this IP…", "Acknowledge…",
                   "Resolve…"):
        assert action.lower() in tools, action
    browser.screenshot("71-incident-subject-links")

    browser.click_and_wait('.object-tools a[href^="/admin/risk/loginlockout/"]', "#result_list")
    assert "carol@example.com" in browser.text("#result_list") and ATTACKER in browser.text("#result_list")
    browser.screenshot("72-login-lockouts")
    browser.click_link("Unlock…", "#lockout_unlock_form")
    browser.click_and_wait('#lockout_unlock_form input[type="submit"]', "#lockout_unlock_form")
    assert "This field is required." in browser.text()
    browser.type("#id_reason", "Carol called from her registered number and was identified")
    browser.click_and_wait('#lockout_unlock_form input[type="submit"]', 'input[name="confirm"]')
    assert browser.text("h1") == "Confirm: Unlock carol@example.com"
    browser.screenshot("73-unlock-confirm")
    browser.click_and_wait('input[name="confirm"]', ".messagelist")
    assert browser.text(".messagelist") == f"Unlocked: carol@example.com can log in again from {ATTACKER}."
    browser.screenshot("74-unlocked")
    assert not AccessAttempt.objects.filter(username="carol@example.com").exists()
    login = APIClient().post("/auth/jwt/create/", {"email": carol.email, "password": PASSWORD}, format="json",
                             REMOTE_ADDR=ATTACKER)
    assert login.status_code == 200


# What an auditor must never be offered: a control, or a link to a page that would refuse them.
CONTROLS = ['select[name="action"]', 'input[name="_save"]', 'input[name="_continue"]', "a.addlink",
            "a.deletelink", "#reverse-link", "#decide-link", "#block-link", "#incident-acknowledge",
            "#incident-resolve", 'a[href*="/deposit/"]', 'a[href*="/unlock/"]', 'a[href*="/password/"]',
            'a[href*="/decide/"]', 'a[href*="/add/"]']


def test_auditor_reads_every_daily_page_and_is_offered_nothing_to_do(browser):
    auditor = StaffFactory(email="auditor@nexus.example", roles=[roles.AUDITOR])
    alice, (savings,) = customer("Alice", "Savings")
    _, (bob_savings,) = customer("Bob", "Savings")
    txn = transfer_external(user=alice, sender_number=savings.pk, receiver_number=bob_savings.pk,
                            amount=Decimal("20.000"), description="Dinner")
    approval = approvals.staff_reversal(staff=StaffFactory(roles=[roles.TELLER]), transaction_id=txn.pk,
                                        reason="Wrong payee")
    assert isinstance(approval, Approval)
    fail_logins(alice.email)
    incident = Incident.objects.get(code="brute_force")
    Incident.objects.create(code="velocity", event="Transfer velocity", severity=Incident.Severity.HIGH, user=alice,
                            subject=str(alice.pk), dedup_key=uuid.uuid4().hex, ip=ATTACKER,
                            details={"count_15m": 11, "transaction_id": str(txn.pk)})

    browser.login(auditor)
    assert "Make a cash deposit" not in browser.text("#nx-quick-links")
    browser.screenshot("80-auditor-home")
    pages = {
        "81-accounts": "/admin/api/account/",
        "82-account": f"/admin/api/account/{savings.pk}/change/",
        "83-transaction": f"/admin/api/transaction/{txn.pk}/change/",
        "84-approvals": "/admin/api/approval/?status__exact=pending",
        "85-approval": f"/admin/api/approval/{approval.pk}/change/",
        "86-user": f"/admin/api/user/{alice.pk}/change/",
        "87-incidents": "/admin/risk/incident/",
        "88-incident": f"/admin/risk/incident/{incident.pk}/change/",
        "89-lockouts": "/admin/risk/loginlockout/",
        "90-audit": "/admin/api/auditrecord/",
        "91-dashboard": "/admin/business/dailybusinessmetrics/dashboard/",
    }
    links = set()
    for name, path in pages.items():
        browser.open(path)
        offered = [selector for selector in CONTROLS if browser.shown(selector)]
        assert not offered, f"{name}: the auditor is offered {offered}"
        browser.screenshot(name)
        # Read as strings at once: nothing of this page is kept once the next one opens.
        links |= {(path, href) for href in browser.driver.execute_script(
            "return Array.from(document.querySelectorAll('#content a[href]'), a => a.getAttribute('href'))")}
    # Every page these pages link to opens for the auditor (a list's own sorting and filters aside).
    client = Client()
    client.force_login(auditor)
    followed = {href for page, href in links if href.startswith("/admin/") and urlsplit(href).path != urlsplit(page).path}
    refused = {href: client.get(href).status_code for href in sorted(followed)}
    assert {href: status for href, status in refused.items() if status != 200} == {}
    assert len(followed) > 20, followed
