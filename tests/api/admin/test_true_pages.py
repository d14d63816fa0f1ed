"""A back office page tells its viewer only true things and offers only what then works (issue 20, the
second outside look): no deposit desk for a frozen account, no freezing of the bank's own accounts, no link
a role cannot follow, only true messages, the decision instead of buttons that would refuse."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from api import roles
from api.models import Account
from api.services import approvals
from api.services.transfers import transfer_external
from tests.api.helpers import held_reversal
from tests.factories import AccountFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def logged_in(client, *role_names, **extra):
    user = StaffFactory(roles=list(role_names), **extra)
    client.force_login(user)
    return user


def deposit_links(html: str) -> list[str]:
    return re.findall(r'href="(/admin/api/account/deposit/\?account=\d+)"', html)


# 1. The deposit desk is offered only where a deposit can be made.

def test_a_frozen_account_offers_no_deposit_in_the_list_nor_on_its_page(client):
    active, frozen = AccountFactory(), AccountFactory(is_active=False)
    logged_in(client, roles.TELLER)
    listed = deposit_links(page(client.get("/admin/api/account/", {"role": "customer"})))
    assert f"/admin/api/account/deposit/?account={active.pk}" in listed
    assert f"/admin/api/account/deposit/?account={frozen.pk}" not in listed
    assert deposit_links(page(client.get(reverse("admin:api_account_change", args=[active.pk]))))
    assert not deposit_links(page(client.get(reverse("admin:api_account_change", args=[frozen.pk]))))


# 2. The bank's own accounts are never frozen: said before a reason is asked for, and nothing changes.

@pytest.mark.parametrize("action", ["freeze", "unfreeze"])
def test_a_selection_with_a_house_account_is_refused_in_words_before_any_reason(client, action):
    logged_in(client, roles.SUPERVISOR)
    customer = AccountFactory(is_active=action == "freeze")
    vault = Account.objects.filter(role=Account.Role.VAULT).first()
    answer = client.post("/admin/api/account/?holder=all",
                         {"action": action, "_selected_action": [customer.pk, vault.pk]}, follow=True)
    html = page(answer)
    assert "the bank&#x27;s own accounts are never frozen or unfrozen" in html and vault.pk in html
    assert "Reason" not in html and "not found" not in html
    customer.refresh_from_db()
    assert customer.is_active == (action == "freeze")  # all or nothing: the customer's account is left too


def test_the_account_list_shows_customers_accounts_unless_asked_for_the_banks(client):
    logged_in(client, roles.TELLER)
    customer = AccountFactory()
    vault = Account.objects.filter(role=Account.Role.VAULT).first()
    listed = page(client.get("/admin/api/account/"))
    assert customer.pk in listed and vault.pk not in listed
    banks = page(client.get("/admin/api/account/?holder=bank"))
    assert vault.pk in banks and customer.pk not in banks
    everyone = page(client.get("/admin/api/account/?holder=all"))
    assert vault.pk in everyone and customer.pk in everyone


def test_a_selection_with_ones_own_account_is_refused_in_words(client):
    supervisor = logged_in(client, roles.SUPERVISOR)
    own, other = AccountFactory(owner=supervisor), AccountFactory()
    html = page(client.post("/admin/api/account/", {"action": "freeze", "_selected_action": [own.pk, other.pk]},
                            follow=True))
    assert f"{own.pk} is your own; another staff member must freeze it" in html
    assert Account.objects.filter(pk__in=[own.pk, other.pk], is_active=True).count() == 2


# 3. Links only to what the viewer may open.

def test_a_risk_analyst_sees_who_approved_a_reversal_but_no_link_to_the_request(client):
    _, supervisor, original, reversal, approval = held_reversal()
    logged_in(client, roles.RISK_ANALYST)
    html = page(client.get(reverse("admin:api_transaction_change", args=[reversal.pk])))
    assert str(approval.pk)[:8] in html and supervisor.email in html
    assert reverse("admin:api_approval_change", args=[approval.pk]) not in html
    assert client.get(reverse("admin:api_approval_change", args=[approval.pk])).status_code == 403
    logged_in(client, roles.SUPERVISOR)
    assert reverse("admin:api_approval_change", args=[approval.pk]) in page(
        client.get(reverse("admin:api_transaction_change", args=[reversal.pk])))


# 4. Only true messages: a held limit increase says so, and nothing claims it changed.

def test_a_tellers_held_limit_increase_says_only_what_happened(client):
    from django.contrib.admin.models import LogEntry

    account = AccountFactory()
    logged_in(client, roles.TELLER)
    url = reverse("admin:api_account_change", args=[account.pk])
    answer = client.post(url, {"daily_limit": "20000.000", "is_active": "on", "reason": "Buying a car"}, follow=True)
    html = page(answer)
    assert "The daily limit of 20,000.000 JOD waits for a second approver" in html
    assert "until then it stays 10,000.000 JOD. Nothing else changed." in html
    assert "was changed successfully" not in html
    account.refresh_from_db()
    assert account.daily_limit == Decimal("10000.000")
    assert LogEntry.objects.get(object_id=account.pk).change_message.startswith("Requested a daily limit of 20,000.000")


# 5. Blocking a staff member says that their requests waiting for approval are cancelled.

def test_blocking_staff_with_pending_requests_says_how_many_are_cancelled(client):
    teller = StaffFactory(roles=[roles.TELLER])
    for _ in range(2):
        approvals.staff_deposit(staff=teller, account_number=AccountFactory().pk, amount=Decimal("12000.000"))
    logged_in(client, roles.SUPERVISOR)
    url = reverse("admin:api_user_control", args=[teller.pk, "block"])
    confirm = page(client.post(url, {"reason": "Left the bank"}))
    assert "Their 2 requests waiting for approval are cancelled" in confirm
    assert "Their money stays where it is" not in confirm  # a staff member without accounts
    customer = AccountFactory().owner
    said = page(client.post(reverse("admin:api_user_control", args=[customer.pk, "block"]), {"reason": "Fraud"}))
    assert "Their money stays where it is." in said and "waiting for approval" not in said


# 6. A decided request's decide page shows the decision, not the buttons; a done control says so.

def test_a_decided_requests_decide_page_shows_the_decision(client):
    _, supervisor, _, reversal, approval = held_reversal()
    logged_in(client, roles.SUPERVISOR)
    url = reverse("admin:api_approval_decide", args=[approval.pk])
    for answer in (client.get(url), client.post(url, {"approve": "1"})):
        html = page(answer)
        assert 'id="approve_form"' not in html and 'id="reject_form"' not in html
        assert "Already approved by" in html and supervisor.email in html and str(reversal.pk)[:8] in html


def test_blocking_a_blocked_user_says_nothing_is_left_to_do(client):
    from api.services import users

    customer = UserFactory()
    supervisor = logged_in(client, roles.SUPERVISOR)
    users.user_block(actor=supervisor, user_id=customer.pk, reason="Fraud")
    html = page(client.get(reverse("admin:api_user_control", args=[customer.pk, "block"]), follow=True))
    assert "Nothing to do:" in html and "is already blocked" in html and 'id="user_control_form"' not in html


# 7. A page names the action it takes, not the state it reaches.

def test_the_acknowledge_pages_breadcrumb_names_the_action(client):
    from risk.models import Incident

    incident = Incident.objects.create(code="brute_force", event="Brute force suspected", severity="high",
                                       subject="someone@example.com")
    logged_in(client, roles.RISK_ANALYST)
    html = page(client.get(reverse("admin:risk_incident_status", args=[incident.pk, "acknowledge"])))
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    assert crumbs.rstrip().endswith("Acknowledge") and "Acknowledged" not in crumbs


# 8. Error texts say what is wrong: a name where a number goes, a negative limit, a word for a number.

def test_number_fields_and_constraints_say_what_is_wrong(client):
    account = AccountFactory()
    logged_in(client, roles.SUPERVISOR)
    url = reverse("admin:api_account_change", args=[account.pk])
    form = page(client.get(url))
    assert re.search(r'<input type="text" name="daily_limit"[^>]*inputmode="decimal"', form)  # never type="number"
    for typed, said in (("abc", "Not a number: write digits"), ("-1", "A daily limit cannot be negative")):
        html = page(client.post(url, {"daily_limit": typed, "is_active": "on", "reason": "Asked"}))
        assert said in html and "This field is required" not in html and "violated" not in html
    fx = page(client.post("/admin/api/fxrate/add/", {"currency": "USD", "rate": "abc", "effective_from_0": "2020-01-01",
                                                     "effective_from_1": "00:00:00"}))
    assert "Not a number: write digits" in fx


def test_every_constraint_says_what_it_refuses_in_words():
    """Django's default for a check (or a conditional unique) constraint is 'Constraint “name” is violated.'."""
    from django.apps import apps
    from django.db.models import CheckConstraint, UniqueConstraint

    for config in (apps.get_app_config(label) for label in ("api", "risk", "business", "nexus")):
        for model in config.get_models():
            for constraint in model._meta.constraints:
                if isinstance(constraint, CheckConstraint) or (
                        isinstance(constraint, UniqueConstraint) and (constraint.condition or constraint.expressions)):
                    message = constraint.get_violation_error_message()
                    assert constraint.name not in message, (model.__name__, constraint.name)


# 9. The audit trail: who made a held command happen, and what happened, in words.

def test_commands_carried_out_on_approval_are_audited_with_the_approver_as_actor():
    from api.models import AuditRecord
    from api.services.accounts import account_update

    teller, supervisor, original, _, _ = held_reversal()
    reversal = AuditRecord.objects.get(action="reversal", object_id=str(original.pk))
    deposit_request = approvals.staff_deposit(staff=teller, account_number=AccountFactory().pk,
                                              amount=Decimal("12000.000"))
    _, made = approvals.approval_approve(approver=supervisor, approval_id=deposit_request.pk)
    deposit = AuditRecord.objects.get(action="deposit", object_id=str(made.pk))
    account = AccountFactory()
    limit_request = account_update(actor=teller, account_number=account.pk, daily_limit=Decimal("20000"), reason="Car")
    approvals.approval_approve(approver=supervisor, approval_id=limit_request.pk)
    limit = AuditRecord.objects.get(action="account_update", object_id=account.pk)
    for record in (reversal, deposit, limit):
        assert record.actor_email == supervisor.email
        assert record.changes["requested_by"] == [None, teller.email]


def test_the_audit_trail_says_what_happened_in_words(client):
    from axes.models import AccessAttempt
    from django.utils import timezone

    from api.services import users
    from api.services.accounts import account_update
    from risk.services import lockout_unlock

    supervisor = StaffFactory(roles=[roles.SUPERVISOR])
    account, customer = AccountFactory(), UserFactory()
    AccessAttempt.objects.create(username=customer.email, ip_address="203.0.113.9", failures_since_start=5,
                                 attempt_time=timezone.now(), user_agent="", http_accept="", path_info="/")
    lockout_unlock(actor=supervisor, email=customer.email, ip="203.0.113.9", reason="Called, identified")
    account_update(actor=supervisor, account_number=account.pk, is_active=False, reason="Card stolen")
    account_update(actor=supervisor, account_number=account.pk, is_active=True, reason="Card found")
    users.user_block(actor=supervisor, user_id=customer.pk, reason="Fraud")
    users.user_unblock(actor=supervisor, user_id=customer.pk, reason="Cleared")
    logged_in(client, roles.AUDITOR)
    html = page(client.get("/admin/api/auditrecord/"))
    for words in ("Froze the account", "Unfroze the account", "Blocked the user", "Unblocked the user"):
        assert f'<td class="field-what">{words}</td>' in html, words
    assert "Unlocked from: 203.0.113.9" in html and "203.0.113.9 → —" not in html


# 10. A staff member's page speaks of staff, not of a customer.

def test_a_staff_members_two_factor_status_is_worded_for_staff(client):
    teller = StaffFactory(roles=[roles.TELLER])
    logged_in(client, roles.SUPERVISOR)
    html = page(client.get(reverse("admin:api_user_change", args=[teller.pk])))
    assert "logs in to the back office and the API with the password alone" in html
    assert "until the customer turns it on" not in html
    customer = page(client.get(reverse("admin:api_user_change", args=[AccountFactory().owner.pk])))
    assert "large payments are refused until the customer turns it on" in customer


# Nothing of one's own is offered: no Reverse on a transfer touching one's account, no Approve on a request
# about it.

def test_no_reverse_nor_approve_is_offered_on_ones_own(client):
    supervisor = logged_in(client, roles.SUPERVISOR)
    own = AccountFactory(owner=supervisor, funded=Decimal("50.000"))
    txn = transfer_external(user=supervisor, sender_number=own.pk, receiver_number=AccountFactory().pk,
                            amount=Decimal("5.000"))
    assert 'id="reverse-link"' not in page(client.get(reverse("admin:api_transaction_change", args=[txn.pk])))
    request = approvals.staff_deposit(staff=StaffFactory(roles=[roles.TELLER]), account_number=own.pk,
                                      amount=Decimal("12000.000"))
    html = page(client.get(reverse("admin:api_approval_change", args=[request.pk])))
    assert 'id="decide-link"' not in html
    said = page(client.get(reverse("admin:api_approval_decide", args=[request.pk])))
    assert "It is about your own accounts" in said and 'id="approve_form"' not in said


# The smaller things the look found: the name a search matched, ISO dates, a blocked user's state.

def test_an_account_found_by_surname_shows_the_owners_name(client):
    account = AccountFactory(owner=UserFactory(first_name="Rania", last_name="Khoury"))
    logged_in(client, roles.TELLER)
    html = page(client.get("/admin/api/account/", {"q": "Khoury"}))
    assert account.pk in html and '<span class="nx-name">Rania Khoury</span>' in html


def test_pages_django_renders_write_dates_as_iso(client):
    """History (Django's own page) wrote "Dec. 6, 2026, 4:02 p.m." beside lists that write 2026-12-06 16:02."""
    from django.utils import formats, timezone

    account = AccountFactory()
    logged_in(client, roles.SUPERVISOR)
    client.post("/admin/api/account/", {"action": "freeze", "_selected_action": [account.pk], "apply": "1",
                                        "reason": "Card stolen"})
    history = page(client.get(reverse("admin:api_account_history", args=[account.pk])))
    when = re.search(r'<th scope="row">(.*?)</th>', history, re.S).group(1).strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", when), when
    today = timezone.now().date()
    assert formats.date_format(today) == f"{today:%Y-%m-%d}"  # a run's date, any date Django formats


def test_a_blocked_user_is_never_shown_as_active(client):
    from api.services import users

    customer = UserFactory()
    supervisor = logged_in(client, roles.SUPERVISOR)
    users.user_block(actor=supervisor, user_id=customer.pk, reason="Fraud")
    row = page(client.get("/admin/api/user/", {"q": customer.email}))
    assert re.search(r'<td class="field-blocked_cell"><span class="nx-alert">Blocked since', row)
    assert "field-is_active" not in row
    html = page(client.get(reverse("admin:api_user_change", args=[customer.pk])))
    assert "but <span class=\"nx-alert\">blocked</span>: cannot log in" in html
    assert "Designates whether this user should be treated as active" not in html


def test_no_unlock_is_offered_on_a_lockout_of_ones_own_email(client):
    from axes.models import AccessAttempt
    from django.utils import timezone

    supervisor = logged_in(client, roles.SUPERVISOR)
    for email in (supervisor.email, "someone@example.com"):
        AccessAttempt.objects.create(username=email, ip_address="203.0.113.9", failures_since_start=5,
                                     attempt_time=timezone.now(), user_agent="", http_accept="", path_info="/")
    html = page(client.get("/admin/risk/loginlockout/"))
    rows = {email: html[html.index(email):].split("</tr>")[0] for email in (supervisor.email, "someone@example.com")}
    assert "Unlock…" in rows["someone@example.com"] and "Unlock…" not in rows[supervisor.email]
