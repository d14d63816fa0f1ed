"""Incidents in the admin: evidence kept, readable, a status change always with a note."""

import re
import uuid

import pytest
from django.contrib.admin.models import LogEntry

from api import roles
from risk.models import Incident
from tests.factories import StaffFactory, UserFactory, grant

pytestmark = pytest.mark.django_db

LIST = "/admin/risk/incident/"


def incident(**fields) -> Incident:
    user = fields.pop("user", None) or UserFactory()
    values = {"code": "velocity", "event": "Transfer velocity", "severity": Incident.Severity.HIGH, "user": user,
              "subject": str(user.pk), "dedup_key": uuid.uuid4().hex, "ip": "203.0.113.9", **fields}
    return Incident.objects.create(**values)


@pytest.fixture
def analyst(client):
    client.force_login(grant(StaffFactory(roles=[]), "risk.view_incident", "risk.change_incident", "api.view_transaction"))
    return client


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_incident_page_names_the_user_and_links_the_transaction(analyst):
    txn_id = uuid.uuid4()
    item = incident(details={"count_15m": 11, "amount_15m_jod": "51000.000", "transaction_id": str(txn_id)})
    page = html(analyst.get(f"{LIST}{item.pk}/change/"))
    assert f"Transfer velocity — {item.user.email}" in page
    assert f'href="/admin/api/transaction/{txn_id}/change/"' in page
    assert "<dt>Count 15m</dt><dd>11</dd>" in page and "{&quot;" not in page  # labelled, not raw JSON
    assert item.user.email in html(analyst.get(LIST))


def test_incidents_cannot_be_deleted_even_by_a_superuser(client):
    item = incident()
    admin = StaffFactory(is_superuser=True)
    client.force_login(admin)
    assert client.post(f"{LIST}{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in html(client.get(LIST))
    assert Incident.objects.filter(pk=item.pk).exists()


def test_resolving_one_incident_asks_for_a_note(analyst):
    item = incident()
    url = f"{LIST}{item.pk}/status/resolve/"
    assert url in html(analyst.get(f"{LIST}{item.pk}/change/"))
    assert 'name="note"' in html(analyst.get(url))
    assert "This field is required." in html(analyst.post(url, {"note": "   ", "apply": "1"}))
    item.refresh_from_db()
    assert item.status == Incident.Status.OPEN
    done = analyst.post(url, {"note": "Customer confirmed the transfers by phone.", "apply": "1"})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == Incident.Status.RESOLVED and item.note == "Customer confirmed the transfers by phone."
    assert LogEntry.objects.get(object_id=str(item.pk)).change_message == (
        "Status Open → Resolved. Note: Customer confirmed the transfers by phone.")


def test_bulk_acknowledge_shows_a_note_page_then_applies_it(analyst):
    first, second = incident(), incident()
    resolved = incident(status=Incident.Status.RESOLVED)
    selected = [str(first.pk), str(second.pk), str(resolved.pk)]
    page = html(analyst.post(LIST, {"action": "acknowledge", "_selected_action": selected, "index": "0"}))
    assert 'name="note"' in page and "1 of them already acknowledged or further on" in page
    assert Incident.objects.filter(status=Incident.Status.ACKNOWLEDGED).count() == 0
    missing = html(analyst.post(LIST, {"action": "acknowledge", "_selected_action": selected, "apply": "1"}))
    assert "This field is required." in missing
    done = analyst.post(LIST, {"action": "acknowledge", "_selected_action": selected, "apply": "1",
                               "note": "Looking into it"}, follow=True)
    assert "2 incidents marked acknowledged." in html(done)
    statuses = dict(Incident.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "acknowledged", second.pk: "acknowledged", resolved.pk: "resolved"}
    assert LogEntry.objects.count() == 2


def test_status_change_needs_the_change_permission(client):
    item = incident()
    client.force_login(grant(StaffFactory(roles=[]), "risk.view_incident"))
    assert client.get(f"{LIST}{item.pk}/status/resolve/").status_code == 403
    page = html(client.get(LIST))
    assert 'value="resolve"' not in page
    assert f"{item.pk}/status/resolve/" not in html(client.get(f"{LIST}{item.pk}/change/"))


@pytest.mark.parametrize(("role", "label"), [(roles.RISK_ANALYST, "Open the user (block, end sessions)"),
                                             (roles.AUDITOR, "Open the user<")])
def test_an_email_incident_names_its_user_and_offers_what_the_viewer_may_do(client, role, label):
    carol = UserFactory(email="carol@example.com")
    item = Incident.objects.create(code="brute_force", event="Brute force suspected", severity=Incident.Severity.HIGH,
                                   subject=carol.email, dedup_key=uuid.uuid4().hex, ip="203.0.113.9")
    client.force_login(StaffFactory(roles=[role]))
    page = html(client.get(f"{LIST}{item.pk}/change/"))
    assert label in page
    assert re.search(rf'href="/admin/api/user/{carol.pk}/change/"[^>]*>carol@example.com</a> \(the email its subject', page)
