"""What the back office says, in words a teller reads: the audit trail, who approved a held transaction,
counts, the site's icon, and a second FX rate for the same moment."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from api import exceptions, roles
from api.models import Account, AuditRecord, FxRate
from api.services.accounts import account_update
from api.services.fx import fx_rate_publish
from tests.api.helpers import held_reversal
from tests.factories import AccountFactory, StaffFactory

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def cells(html: str, column: str) -> list[str]:
    """The text of a list column's cells, tags dropped."""
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(rf'<td class="field-{column}">(.*?)</td>', html, re.S)]


def test_the_audit_trail_reads_as_words_not_raw_values(client):
    teller, supervisor, original, reversal, approval = held_reversal()
    account = AccountFactory()
    account_update(actor=teller, account_number=account.pk, is_active=False, reason="Card stolen")
    client.force_login(StaffFactory(roles=[roles.AUDITOR]))
    html = page(client.get("/admin/api/auditrecord/"))
    changes = cells(html, "change_summary")
    assert "State: active → frozen" in changes[0] and "Reason: Card stolen" in changes[0]
    assert any("Status: Success → Reversed" in change for change in changes)
    assert any("Status: Pending → Approved" in change for change in changes)
    assert any(f"Reversal: {str(reversal.pk)[:8]}" in change for change in changes)
    for raw in ("True", "False", "None", "SUCCESS", str(reversal.pk)):
        assert not any(raw in change for change in changes), raw
    # Its object links to its page (an account by number, a transaction by a short id).
    assert f'href="/admin/api/account/{account.pk}/change/"' in html
    assert f'href="/admin/api/transaction/{original.pk}/change/"' in html
    record = AuditRecord.objects.get(action="approval_approve")
    assert "Transaction made: " in page(client.get(f"/admin/api/auditrecord/{record.pk}/change/"))


def test_a_held_reversal_names_its_approver_beside_its_requester(client):
    teller, supervisor, original, reversal, approval = held_reversal()
    client.force_login(StaffFactory(roles=[roles.TELLER]))
    made = page(client.get(f"/admin/api/transaction/{reversal.pk}/change/"))
    initiated = re.search(r"Initiated by:</label>\s*<div class=\"readonly\">(.*?)</div>", made, re.S).group(1)
    approved = re.search(r"Approved by:</label>\s*<div class=\"readonly\">(.*?)</div>", made, re.S).group(1)
    assert teller.email in initiated and supervisor.email in approved and str(approval.pk)[:8] in approved
    reversed_page = page(client.get(f"/admin/api/transaction/{original.pk}/change/"))
    assert re.search(rf"Reversed by .*requested by .*{teller.email}.*approved by .*{supervisor.email}", reversed_page)
    assert "field-approved_by" not in reversed_page  # the transfer itself was made at once


@pytest.mark.parametrize(("count", "words"), [(1, "Froze 1 account."), (2, "Froze 2 accounts.")])
def test_admin_messages_count_in_words(client, count, words):
    client.force_login(StaffFactory(roles=[roles.SUPERVISOR]))
    chosen = [AccountFactory().pk for _ in range(count)]
    asked = page(client.post("/admin/api/account/", {"action": "freeze", "_selected_action": chosen}))
    assert f"Freeze {count} account{'s' if count > 1 else ''}" in asked and "(s)" not in asked
    done = page(client.post("/admin/api/account/", {"action": "freeze", "_selected_action": chosen,
                                                    "apply": "Freeze now", "reason": "Fraud reported"}, follow=True))
    assert words in done and "(s)" not in done


def test_the_site_has_an_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/x-icon"
    assert b"".join(answer.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file


def test_a_second_fx_rate_for_the_same_moment_is_refused_on_the_form(client):
    client.force_login(StaffFactory(roles=[roles.SUPERVISOR]))
    form = {"currency": "USD", "rate": "1.420000", "effective_from_0": "2020-01-01", "effective_from_1": "00:00:00"}
    assert client.post("/admin/api/fxrate/add/", form).status_code == 302
    backdated_twin = page(client.post("/admin/api/fxrate/add/", {**form, "rate": "1.430000"}))
    assert "already takes effect at this moment" in backdated_twin
    assert not FxRate.objects.filter(rate=Decimal("1.43")).exists()
    # The same currency a second later, or another currency at that moment, is a rate of its own.
    assert client.post("/admin/api/fxrate/add/", {**form, "effective_from_1": "00:00:01"}).status_code == 302
    assert client.post("/admin/api/fxrate/add/", {**form, "currency": "EUR"}).status_code == 302


def test_the_service_refuses_a_twin_rate_that_slipped_past_the_form():
    actor, moment = StaffFactory(roles=[roles.SUPERVISOR]), timezone.now()
    fx_rate_publish(actor=actor, currency="EUR", rate=Decimal("1.30"), effective_from=moment)
    with pytest.raises(exceptions.InvalidInput) as refused:
        fx_rate_publish(actor=actor, currency="EUR", rate=Decimal("1.32"), effective_from=moment)
    assert "already takes effect at this moment" in refused.value.details["effective_from"][0]
    assert FxRate.objects.filter(currency="EUR", effective_from=moment).get().rate == Decimal("1.30")
    assert Account.objects.exists()  # the caller's transaction is still usable after the refusal
