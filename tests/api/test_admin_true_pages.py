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


def held_reversal():
    """A teller's reversal of a transfer, approved by a supervisor: (teller, supervisor, original, reversal,
    approval)."""
    teller, supervisor = StaffFactory(roles=[roles.TELLER]), StaffFactory(roles=[roles.SUPERVISOR])
    alice = UserFactory()
    sender = AccountFactory(owner=alice, funded=Decimal("100.000"))
    original = transfer_external(user=alice, sender_number=sender.pk, receiver_number=AccountFactory().pk,
                                 amount=Decimal("30.000"))
    approval = approvals.staff_reversal(staff=teller, transaction_id=original.pk, reason="Wrong payee")
    approval, reversal = approvals.approval_approve(approver=supervisor, approval_id=approval.pk)
    return teller, supervisor, original, reversal, approval


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
    answer = client.post("/admin/api/account/", {"action": action, "_selected_action": [customer.pk, vault.pk]},
                         follow=True)
    html = page(answer)
    assert "the bank&#x27;s own accounts are never frozen or unfrozen" in html and vault.pk in html
    assert "Reason" not in html and "not found" not in html
    customer.refresh_from_db()
    assert customer.is_active == (action == "freeze")  # all or nothing: the customer's account is left too


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
