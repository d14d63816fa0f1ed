"""Evidence is never lost (contract v1.3, audit finding 2): login events are never changed or deleted,
incidents change status but never disappear, through the admin, the API, the roles or plain SQL."""

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client

from api import roles
from api.models import User
from risk import services
from risk.models import Incident, LoginEvent
from tests.conftest import auth_client
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENTS = "/admin/risk/loginevent/"
INCIDENTS = "/admin/risk/incident/"


def event(**fields) -> LoginEvent:
    return LoginEvent.objects.create(**{"attempted_email": "victim@example.com", "ip": "203.0.113.9",
                                        "successful": False, **fields})


def incident(**fields) -> Incident:
    return Incident.objects.create(**{"code": "brute_force", "event": "Brute force suspected", "severity": "high",
                                      "subject": "victim@example.com", "dedup_key": uuid.uuid4().hex,
                                      "ip": "203.0.113.9", **fields})


def refused(statement: str, *params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def admin_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["superuser", "risk"])
def test_the_admin_deletes_no_login_event_and_no_incident(who):
    user = StaffFactory(is_superuser=True) if who == "superuser" else StaffFactory(roles=[roles.RISK_ANALYST])
    client = admin_as(user)
    kept_event, kept_incident = event(), incident()
    for url, pk in [(EVENTS, kept_event.pk), (INCIDENTS, kept_incident.pk)]:
        assert client.get(f"{url}{pk}/delete/").status_code == 403
        assert client.post(f"{url}{pk}/delete/", {"post": "yes"}).status_code == 403
        page = client.get(url)
        assert page.status_code == 200 and "delete_selected" not in page.content.decode()
        # The bulk action posted by hand: not an action of this list, so nothing happens.
        client.post(url, {"action": "delete_selected", "_selected_action": [str(pk)], "post": "yes"})
    assert LoginEvent.objects.filter(pk=kept_event.pk).exists()
    assert Incident.objects.filter(pk=kept_incident.pk).exists()


def test_the_api_has_no_way_to_delete_them():
    client = auth_client(StaffFactory(is_superuser=True))
    item = incident()
    assert client.delete(f"/risk/incidents/{item.pk}/").status_code in {403, 405}  # refused before the method
    assert client.delete("/risk/login-events/").status_code in {403, 405}
    assert Incident.objects.filter(pk=item.pk).exists()


def test_no_role_holds_a_delete_permission_on_evidence():
    deleting = Permission.objects.filter(content_type__app_label="risk",
                                         codename__in=["delete_incident", "delete_loginevent"])
    assert not Group.objects.filter(name__in=roles.ROLES, permissions__in=deleting).exists()
    assert not any(perm in {"risk.delete_incident", "risk.delete_loginevent"}
                   for perms in roles.GRANTS.values() for perm in perms)


def test_the_database_refuses_to_change_or_delete_a_login_event():
    kept = event()
    refused("UPDATE risk_loginevent SET successful = true WHERE id = %s", kept.pk)
    refused("DELETE FROM risk_loginevent WHERE id = %s", kept.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoginEvent.objects.filter(pk=kept.pk).update(attempted_email="someone@else")
    with pytest.raises(IntegrityError), transaction.atomic():
        LoginEvent.objects.all().delete()
    kept.refresh_from_db()
    assert (kept.attempted_email, kept.successful) == ("victim@example.com", False)


def test_the_database_keeps_incidents_and_what_they_found_but_lets_their_status_change(staff):
    kept = incident()
    refused("DELETE FROM risk_incident WHERE id = %s", kept.pk)
    for column, value in [("severity", "low"), ("subject", "someone-else"), ("ip", "198.51.100.1"),
                          ("details", '{"forged": 1}'), ("timestamp", "2000-01-01T00:00:00Z"), ("code", "velocity")]:
        refused(f"UPDATE risk_incident SET {column} = %s WHERE id = %s", value, kept.pk)  # noqa: S608 - fixed names
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=kept.pk).delete()
    services.set_incident_status(incident=kept, status=Incident.Status.RESOLVED, note="checked", by=staff)
    kept.refresh_from_db()
    assert (kept.status, kept.note, kept.severity) == ("resolved", "checked", "high")


def test_a_user_with_evidence_cannot_be_deleted():
    customer = UserFactory()
    event(user=customer, successful=True, attempted_email=customer.email)
    with pytest.raises(ProtectedError), transaction.atomic():
        User.objects.filter(pk=customer.pk).delete()
    other = UserFactory()
    incident(user=other)
    with pytest.raises(ProtectedError), transaction.atomic():
        other.delete()
    assert User.objects.filter(pk__in=[customer.pk, other.pk]).count() == 2
