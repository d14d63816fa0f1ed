"""Notifications (contract v1.2): written after commit, ids only, the list and read endpoints."""

from decimal import Decimal

import pytest
from django.db import transaction

from api.models import Notification, User
from api.services.transfers import transfer_external
from tests.api.helpers import error_code, post_json
from tests.conftest import auth_client
from tests.factories import PASSWORD, AccountFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # rows are written after commit


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_money_in_and_out_and_reversal_and_deposit():
    alice, bob = UserFactory(), UserFactory()
    a = AccountFactory(owner=alice, funded=Decimal("100"))
    b = AccountFactory(owner=bob)
    assert kinds(alice) == ["deposit"]
    response = post_json(auth_client(alice), "/transfers/external/",
                         {"sender_account": a.pk, "receiver_account": b.pk, "amount": "10.000"})
    txn_id = response.json()["id"]
    assert kinds(alice) == ["deposit", "transfer_out"] and kinds(bob) == ["transfer_in"]
    received = Notification.objects.get(user=bob)
    assert received.data == {"transaction_id": txn_id, "account": b.pk}
    # Never the other customer's balance (or account) in what the receiver is told.
    assert a.pk not in received.body and "balance" not in str(received.data)
    staff = StaffFactory()
    post_json(auth_client(staff), f"/transfers/{txn_id}/reverse/", {"reason": "mistake"})
    assert kinds(alice).count("reversal") == 1 and kinds(bob).count("reversal") == 1


def test_a_rolled_back_transfer_notifies_nobody():
    alice, bob = UserFactory(), UserFactory()
    a = AccountFactory(owner=alice, funded=Decimal("100"))
    b = AccountFactory(owner=bob)
    before = Notification.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        transfer_external(user=alice, sender_number=a.pk, receiver_number=b.pk, amount=Decimal("5"))
        raise RuntimeError("rolled back after the posting")
    assert Notification.objects.count() == before
    refused = post_json(auth_client(alice), "/transfers/external/",
                        {"sender_account": a.pk, "receiver_account": b.pk, "amount": "99.500"})  # with its fee: short
    assert refused.status_code == 422 and Notification.objects.count() == before


def test_list_filter_read_and_read_all_only_ones_own():
    alice, bob = UserFactory(), UserFactory()
    AccountFactory(owner=alice, funded=Decimal("1"))
    AccountFactory(owner=alice, funded=Decimal("2"))
    AccountFactory(owner=bob, funded=Decimal("3"))
    client = auth_client(alice)
    listed = client.get("/notifications/").json()["results"]
    assert len(listed) == 2 and set(listed[0]) == {"id", "kind", "title", "body", "data", "read", "created_at"}
    assert listed[0]["created_at"] >= listed[1]["created_at"]
    bobs = Notification.objects.get(user=bob)
    assert client.post(f"/notifications/{bobs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{listed[0]['id']}/read/").status_code == 204
    assert [n["id"] for n in client.get("/notifications/?unread=true").json()["results"]] == [listed[1]["id"]]
    assert [n["id"] for n in client.get("/notifications/?unread=false").json()["results"]] == [listed[0]["id"]]
    assert client.get("/notifications/?unread=maybe").status_code == 400
    assert client.get("/notifications/?unread=").status_code == 400  # sent empty: a mistake, as for every filter
    assert client.post("/notifications/read-all/").status_code == 204
    assert client.get("/notifications/?unread=true").json()["results"] == []
    assert Notification.objects.get(pk=bobs.pk).read_at is None


def test_security_alerts_password_change_and_new_country():
    user = UserFactory()
    client = auth_client(user)
    response = post_json(client, "/auth/password/", {"current_password": PASSWORD,
                                                     "new_password": "a-brand-new-passphrase-91"})
    assert response.status_code == 204
    # Logins with a country (a trusted proxy's CF-IPCountry): the first sets the baseline.
    for country in ("JO", "JO", "FR"):
        post_json(client, "/auth/jwt/create/", {"email": user.email, "password": "a-brand-new-passphrase-91"},
                  HTTP_CF_IPCOUNTRY=country)
    events = list(Notification.objects.filter(user=user, kind="security_alert").values_list("data", flat=True))
    assert [e["event"] for e in events].count("password_changed") == 1
    assert [e for e in events if e["event"] == "new_country"] == [{"event": "new_country", "country": "FR"}]


# --- staff control of users -----------------------------------------------------------------------

def test_block_unblock_and_revoke_are_audited_and_notified():
    from api.models import AuditRecord

    user = UserFactory()
    supervisor = StaffFactory(roles=["Supervisor"])
    staff = auth_client(supervisor)
    own = auth_client(user)
    assert own.get("/auth/me/").status_code == 200
    blocked = post_json(staff, f"/users/{user.pk}/block/", {"reason": "card stolen"})
    assert blocked.status_code == 200 and blocked.json()["blocked"] is True
    answer = own.get("/auth/me/")
    assert answer.status_code == 401 and error_code(answer) == "account_blocked"
    login = post_json(auth_client(user), "/auth/jwt/create/", {"email": user.email, "password": PASSWORD})
    assert login.status_code == 401 and error_code(login) == "account_blocked"
    wrong = post_json(auth_client(user), "/auth/jwt/create/", {"email": user.email, "password": "not-it-" * 3})
    assert error_code(wrong) == "invalid_credentials"  # the block is told only to whoever knows the password
    assert post_json(staff, f"/users/{user.pk}/unblock/", {}).status_code == 200
    assert own.get("/auth/me/").status_code == 401  # tokens from before the block stay revoked
    relogin = post_json(auth_client(user), "/auth/jwt/create/", {"email": user.email, "password": PASSWORD})
    assert relogin.status_code == 200
    fresh = auth_client(User.objects.get(pk=user.pk))
    assert fresh.get("/auth/me/").status_code == 200
    assert staff.post(f"/users/{user.pk}/revoke-sessions/", {}, format="json").status_code == 204
    assert fresh.get("/auth/me/").status_code == 401
    refresh = post_json(auth_client(user), "/auth/jwt/refresh/", {"refresh": relogin.json()["refresh"]})
    assert refresh.status_code == 401
    assert post_json(auth_client(user), "/auth/jwt/create/", {"email": user.email, "password": PASSWORD}).status_code == 200
    records = AuditRecord.objects.filter(object_id=user.email, action="user_update").order_by("timestamp")
    assert [list(r.changes) for r in records] == [["blocked", "blocked_reason"], ["blocked", "blocked_reason"],
                                                  ["token_version"]]
    assert {r.actor_email for r in records} == {supervisor.email}
    events = [n.data["event"] for n in Notification.objects.filter(user=user).order_by("created_at")]
    assert events == ["account_blocked", "account_unblocked", "sessions_revoked"]


def test_staff_cannot_block_themselves_and_unknown_users_are_404():
    supervisor = StaffFactory(roles=["Supervisor"])
    staff = auth_client(supervisor)
    assert post_json(staff, f"/users/{supervisor.pk}/block/", {"reason": "x"}).status_code == 403
    assert post_json(staff, "/users/00000000-0000-0000-0000-000000000000/block/", {"reason": "x"}).status_code == 404
    assert post_json(staff, f"/users/{UserFactory().pk}/block/", {}).status_code == 400  # a reason is required
    assert User.objects.filter(blocked_at__isnull=False).count() == 0


def test_no_staff_member_can_cut_off_someone_holding_more_than_they_do():
    """A Risk analyst may block a customer, not a Supervisor or a superuser; a Supervisor may block a
    teller (whose every permission it holds); a superuser anyone."""
    risk, supervisor = StaffFactory(roles=["Risk analyst"]), StaffFactory(roles=["Supervisor"])
    teller, root = StaffFactory(roles=["Teller"]), User.objects.create_superuser("root@example.com", PASSWORD)
    analyst = auth_client(risk)
    for target in (supervisor, root):
        for action in ("block", "revoke-sessions"):
            answer = post_json(analyst, f"/users/{target.pk}/{action}/", {"reason": "x"})
            assert answer.status_code == 403 and error_code(answer) == "permission_denied", (target, action)
    assert post_json(analyst, f"/users/{UserFactory().pk}/block/", {"reason": "x"}).status_code == 200
    assert post_json(auth_client(supervisor), f"/users/{teller.pk}/block/", {"reason": "x"}).status_code == 200
    assert post_json(auth_client(root), f"/users/{supervisor.pk}/revoke-sessions/", {"reason": "x"}).status_code == 204
    assert not User.objects.filter(pk__in=[supervisor.pk, root.pk], blocked_at__isnull=False).exists()


def test_one_batch_lists_its_movements_in_the_order_they_were_made(settings):
    # The worker writes a batch's rows in one statement at one moment; the list (newest first) must still show
    # the transfer above the deposit it spent, however the rows' random ids fall.
    from nexus import jobs

    settings.NEXUS_JOBS_EAGER = False
    alice, bob = UserFactory(), UserFactory()
    for _ in range(8):
        a = AccountFactory(owner=alice, funded=Decimal("100"))  # a deposit (the factory's funding)
        post_json(auth_client(alice), "/transfers/external/",
                  {"sender_account": a.pk, "receiver_account": AccountFactory(owner=bob).pk, "amount": "10.000"})
    jobs.drain_all()
    listed = [n["kind"] for n in auth_client(alice).get("/notifications/?limit=100").json()["results"]]
    assert listed == ["transfer_out", "deposit"] * 8
