"""Authorization matrix and mass assignment.

Every operation of the schema is called as anonymous, with a bad token (forged; A's own token past
its expiry; a token issued before its user's password change; a deactivated staff member's), as
customer A (the owner of the objects in the path/body), as customer B on A's objects, and as staff
of every role, a superuser with no role and a staff member with none; the answer must be the
contract's: 401 without valid credentials (``token_expired`` for an expired one), 404 for someone
else's objects (never revealing them), 403 for staff-only operations, 2xx otherwise. A test also fails when the schema
has an operation this table does not cover, so a new endpoint cannot ship unchecked.
"""

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.bankday import bank_day
from api.models import Account, Approval, BillPayment, Card, Notification, StandingOrder, Transaction, User
from api.services.approvals import staff_reversal
from api.services.sessions import end_sessions
from api.services.standing import create_order
from api.services.transfers import transfer_internal
from api.services.users import user_block
from risk.models import BlockedIP
from tests.factories import PASSWORD, StaffFactory, UserFactory, enrol, totp_code
from tests.world import World, bearer, build_world

from .test_fuzz import openapi

# Credentials that must never get past authentication, whatever the operation.
BAD_TOKENS = ("forged", "expired", "revoked", "inactive")
CUSTOMER_ROLES = ("anonymous", *BAD_TOKENS, "owner", "other")
# "staff" holds every role; the others one role each ("norole": is_staff in no group); "superuser"
# holds no role and every permission.
STAFF_ROLES = ("staff", "teller", "supervisor", "risk", "auditor", "norole", "superuser")
ROLES = CUSTOMER_ROLES + STAFF_ROLES
START = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
FORGED = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJl"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # schema path template
    expect: dict  # role -> status
    body: object = None  # callable(world) -> dict, or None; called for each caller
    url: object = None  # callable(world) -> concrete URL, called for each caller; default: A's objects


def _expired(user: User) -> dict:
    """The owner's own access token, signed by us, past its ``exp``."""
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _revoked(world: World) -> dict:
    """A customer's token issued before their password change (any revocation)."""
    user = UserFactory()
    headers = bearer(user)
    end_sessions(user)
    return headers


def _inactive(world: World) -> dict:
    """A staff member holding every role, deactivated (a leaver) after the token was issued."""
    leaver = StaffFactory()
    headers = bearer(leaver)
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    return headers


EXTRA_CALLERS = {"expired": lambda w: _expired(w.a), "revoked": _revoked, "inactive": _inactive,
                 "superuser": lambda w: bearer(StaffFactory(is_superuser=True, roles=[]))}


def _auth(world: World, role: str) -> dict:
    if role == "forged":
        return FORGED
    if role in EXTRA_CALLERS and role not in world.headers:
        world.headers[role] = EXTRA_CALLERS[role](world)
    return world.headers[{"owner": "customer"}.get(role, role)]


def _a_objects(world: World) -> dict:
    return {"account_number": world.a_jod.pk, "card_id": world.card.pk, "transaction_id": world.internal.pk,
            "bill_id": world.bill.pk, "approval_id": world.approval.pk, "id": world.incident.pk}


PROTECTED = {"anonymous": 401, **{role: 401 for role in BAD_TOKENS}}


def customer(expect: dict, **staff) -> dict:
    """A customer operation: every staff member is answered like "staff" (a user like any other)."""
    return {**expect, **{role: expect["staff"] for role in STAFF_ROLES}, **staff}


def staff_only(**allowed) -> dict:
    """A staff operation: 401 without credentials, 403 to customers and to roles not named; a superuser
    is answered like "staff" (every permission)."""
    return {**PROTECTED, **{role: 403 for role in ("owner", "other", *STAFF_ROLES)}, "superuser": allowed["staff"],
            **allowed}


OWN = customer({**PROTECTED, "owner": 200, "other": 404, "staff": 404})
# v1.3: staff whose roles only read (an Auditor, a staff member with no role) write nothing, not even as a
# customer of their own: 403 before any lookup.
READ_ONLY_STAFF = {"auditor": 403, "norole": 403}
MINE = customer({**PROTECTED, "owner": 200, "other": 200, "staff": 200})  # each caller sees their own
PUBLIC_READ = customer({**PROTECTED, "anonymous": 200, "owner": 200, "other": 200, "staff": 200})
_new_ids = itertools.count(1)


def fresh_transfer(world: World) -> Transaction:
    return transfer_internal(user=world.a, sender_number=world.a_jod.pk, receiver_number=world.a_usd.pk,
                             amount=Decimal("1"))


def fresh_approval(world: World) -> Approval:
    return staff_reversal(staff=world.teller, transaction_id=fresh_transfer(world).pk, reason="matrix")


def fresh_order(world: World) -> StandingOrder:
    return create_order(user=world.a, sender_number=world.a_jod.pk, receiver_number=world.b_jod.pk,
                        amount=Decimal("1"), interval="monthly", first_date=bank_day() + timedelta(days=3))


def order_url(suffix=""):
    return lambda w: f"/standing-orders/{fresh_order(w).pk}/{suffix}"


def order_body(world):
    return {**transfer_body("external")(world), "interval": "weekly", "first_date": str(bank_day() + timedelta(days=3))}


def fresh_notification(world: World) -> Notification:
    return Notification.objects.create(user=world.a, kind=Notification.Kind.DEPOSIT, title="matrix")


def fresh_blocked_user(world: World) -> User:
    return user_block(actor=world.staff, user_id=UserFactory().pk, reason="matrix")


def fresh_blocked(world: World) -> BlockedIP:
    return BlockedIP.objects.create(cidr=f"198.18.{next(_new_ids) % 250}.0/24", reason="matrix")


def transfer_body(kind):
    def body(world):
        receiver = world.a_usd.pk if kind == "internal" else world.b_jod.pk
        return {"sender_account": world.a_jod.pk, "receiver_account": receiver, "amount": "1.000"}
    return body


ROWS = [
    Row("GET", "/auth/me/", MINE),
    Row("PATCH", "/auth/me/", MINE, body=lambda w: {"first_name": "Renamed"}),
    # Each caller changes their own password (every user of the world has PASSWORD).
    Row("POST", "/auth/password/", customer({**PROTECTED, "owner": 204, "other": 204, "staff": 204}),
        body=lambda w: {"current_password": PASSWORD, "new_password": "matrix-new-passphrase-42"}),
    Row("GET", "/accounts/", MINE),
    Row("POST", "/accounts/", customer({**PROTECTED, "owner": 201, "other": 201, "staff": 201}, **READ_ONLY_STAFF),
        body=lambda w: {"type": "USD"}),
    Row("GET", "/accounts/{account_number}/", OWN),
    # v1.3: the limit is its own power (Teller, Supervisor); freezing is the Risk analyst's too.
    Row("PATCH", "/accounts/{account_number}/", staff_only(staff=200, teller=200, supervisor=200),
        body=lambda w: {"daily_limit": "5000.000"}),
    Row("GET", "/accounts/{account_number}/transactions/", OWN),
    Row("GET", "/accounts/{account_number}/transactions.csv", OWN),
    Row("GET", "/accounts/{account_number}/cards/", OWN),
    Row("POST", "/accounts/{account_number}/cards/", {**OWN, "owner": 201, **READ_ONLY_STAFF},
        body=lambda w: {"card_type": "DEBIT"}),
    Row("POST", "/accounts/{account_number}/deposit/", staff_only(staff=201, teller=201, supervisor=201),
        body=lambda w: {"amount": "5.000"}),
    Row("GET", "/cards/{card_id}/", OWN),
    Row("PATCH", "/cards/{card_id}/", {**OWN, **READ_ONLY_STAFF}, body=lambda w: {"is_active": False}),
    # v1.3: standing orders are the customer's; staff who look customers up read them, never change them.
    Row("GET", "/standing-orders/", MINE),
    Row("POST", "/standing-orders/", {**OWN, "owner": 201, **READ_ONLY_STAFF}, body=order_body),
    Row("GET", "/standing-orders/{order_id}/", customer({**OWN, "staff": 200}, norole=404), url=order_url()),
    Row("GET", "/standing-orders/{order_id}/runs/", customer({**OWN, "staff": 200}, norole=404), url=order_url("runs/")),
    Row("DELETE", "/standing-orders/{order_id}/", {**OWN, "owner": 204, **READ_ONLY_STAFF}, url=order_url()),
    Row("GET", "/transfers/internal/", MINE),
    Row("POST", "/transfers/internal/", {**OWN, "owner": 201, **READ_ONLY_STAFF}, body=transfer_body("internal")),
    Row("GET", "/transfers/external/", MINE),
    Row("POST", "/transfers/external/", {**OWN, "owner": 201, **READ_ONLY_STAFF}, body=transfer_body("external")),
    # Staff whose roles view transactions see every one (they reverse them); others only their own.
    Row("GET", "/transfers/{transaction_id}/", customer({**OWN, "staff": 200}, norole=404)),
    # A teller's reversal waits for a supervisor (202); a supervisor reverses at once.
    Row("POST", "/transfers/{transaction_id}/reverse/", staff_only(staff=201, supervisor=201, teller=202),
        body=lambda w: {"reason": "matrix"}, url=lambda w: f"/transfers/{fresh_transfer(w).pk}/reverse/"),
    Row("GET", "/fx/rates/", PUBLIC_READ),
    Row("GET", "/fx/quote/", PUBLIC_READ, url=lambda w: "/fx/quote/?from=USD&to=EUR&amount=100.00"),
    Row("GET", "/billers/", MINE),
    Row("GET", "/bill/", MINE),
    Row("POST", "/bill/", {**OWN, "owner": 201, **READ_ONLY_STAFF},
        body=lambda w: {"account": w.a_jod.pk, "biller": w.biller_id, "amount": "1.000", "reference": "M-1"}),
    Row("GET", "/bill/{bill_id}/", OWN),
    Row("GET", "/approvals/", staff_only(staff=200, teller=200, supervisor=200, auditor=200)),
    Row("GET", "/approvals/{approval_id}/", staff_only(staff=200, teller=200, supervisor=200, auditor=200)),
    Row("POST", "/approvals/{approval_id}/approve/", staff_only(staff=201, supervisor=201),
        url=lambda w: f"/approvals/{fresh_approval(w).pk}/approve/"),
    Row("POST", "/approvals/{approval_id}/reject/", staff_only(staff=200, supervisor=200),
        body=lambda w: {"reason": "matrix"}, url=lambda w: f"/approvals/{fresh_approval(w).pk}/reject/"),
    Row("GET", "/audit/", staff_only(staff=200, auditor=200)),
    Row("GET", "/risk/incidents/", staff_only(staff=200, risk=200, auditor=200)),
    Row("GET", "/risk/incidents/{id}/", staff_only(staff=200, risk=200, auditor=200)),
    Row("PATCH", "/risk/incidents/{id}/", staff_only(staff=200, risk=200),
        body=lambda w: {"status": "acknowledged", "note": "matrix"}),
    Row("GET", "/risk/login-events/", staff_only(staff=200, risk=200, auditor=200)),
    Row("GET", "/risk/blacklist/", staff_only(staff=200, risk=200, auditor=200)),
    Row("POST", "/risk/blacklist/", staff_only(staff=201, risk=201),
        body=lambda w: {"cidr": f"198.19.{next(_new_ids) % 250}.0/24", "reason": "matrix"}),
    Row("DELETE", "/risk/blacklist/{id}/", staff_only(staff=204, risk=204),
        url=lambda w: f"/risk/blacklist/{fresh_blocked(w).pk}/"),
    *(Row("GET", path, staff_only(staff=200, supervisor=200, auditor=200))
      for path in ("/business/overview/", "/business/daily/", "/business/weekly/", "/business/monthly/")),
    # v1.2: two-factor authentication, each caller on their own account. Confirm and disable without a
    # pending setup (or with 2FA off) are 400: the caller got past authentication to the validation.
    Row("POST", "/auth/2fa/setup/", customer({**PROTECTED, "owner": 200, "other": 200, "staff": 200}),
        body=lambda w: {"password": PASSWORD}),
    Row("POST", "/auth/2fa/confirm/", customer({**PROTECTED, "owner": 400, "other": 400, "staff": 400}),
        body=lambda w: {"code": "123456"}),
    Row("POST", "/auth/2fa/disable/", customer({**PROTECTED, "owner": 400, "other": 400, "staff": 400}),
        body=lambda w: {"password": PASSWORD, "code": "123456"}),
    # v1.2: notifications, only one's own.
    Row("GET", "/notifications/", MINE),
    Row("POST", "/notifications/{id}/read/", customer({**PROTECTED, "owner": 204, "other": 404, "staff": 404}),
        url=lambda w: f"/notifications/{fresh_notification(w).pk}/read/"),
    Row("POST", "/notifications/read-all/", customer({**PROTECTED, "owner": 204, "other": 204, "staff": 204})),
    # v1.2: staff control of users (api.block_user: Supervisor, Risk analyst), on a fresh customer each call.
    Row("POST", "/users/{id}/block/", staff_only(staff=200, supervisor=200, risk=200),
        body=lambda w: {"reason": "matrix"}, url=lambda w: f"/users/{UserFactory().pk}/block/"),
    Row("POST", "/users/{id}/unblock/", staff_only(staff=200, supervisor=200, risk=200),
        body=lambda w: {"reason": "matrix"}, url=lambda w: f"/users/{fresh_blocked_user(w).pk}/unblock/"),
    Row("POST", "/users/{id}/revoke-sessions/", staff_only(staff=204, supervisor=204, risk=204),
        body=lambda w: {}, url=lambda w: f"/users/{UserFactory().pk}/revoke-sessions/"),
    # v1.3: a Supervisor resets a customer's 2FA.
    Row("POST", "/users/{id}/reset-2fa/", staff_only(staff=200, supervisor=200),
        body=lambda w: {"reason": "matrix"}, url=lambda w: f"/users/{UserFactory().pk}/reset-2fa/"),
]
# Authentication endpoints take no token (a forged one is ignored); each role gets its own answer.
PUBLIC_ROWS = {("POST", "/auth/register/"), ("POST", "/auth/jwt/create/"), ("POST", "/auth/jwt/refresh/"),
               ("POST", "/auth/jwt/logout/"), ("POST", "/auth/2fa/verify/"), ("GET", "/health/")}


def _url(row: Row, world: World) -> str:
    return row.url(world) if row.url else row.path.format(**_a_objects(world))


def _call(world: World, role: str, method: str, url: str, body=None):
    client = APIClient()
    client.credentials(**{f"HTTP_{k.upper()}": v for k, v in _auth(world, role).items()})
    return client.generic(method, url, data=None if body is None else json.dumps(body),
                          content_type="application/json")


def test_every_operation_is_in_the_matrix():
    covered = {(row.method, row.path) for row in ROWS} | PUBLIC_ROWS
    operations = {(method.upper(), path) for path, item in openapi()["paths"].items() for method in item}
    assert not operations - covered, f"operations without an authorization row: {sorted(operations - covered)}"
    assert all(set(row.expect) == set(ROLES) for row in ROWS)


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.path}" for r in ROWS])
def test_authorization_matrix(row):
    world = build_world()
    got = {}
    # Staff last: a staff write (a reversal) must not change what the customers were answered.
    for role in ROLES:
        url = _url(row, world)
        response = _call(world, role, row.method, url, row.body(world) if row.body else None)
        got[role] = response.status_code
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}, (role, response.content)
            expected_code = {401: {"not_authenticated", "token_invalid"}, 403: {"permission_denied"},
                             404: {"not_found"}}.get(response.status_code)
            if role == "expired":
                expected_code = {"token_expired"}
            if expected_code:
                assert error["code"] in expected_code, (role, error)
            # A 404 for someone else's object reads exactly like one for a missing object.
            assert str(world.a_jod.pk) not in response.content.decode() or role == "owner"
    assert got == row.expect


@pytest.mark.django_db
def test_lists_show_only_the_callers_objects(client_for):
    world = build_world()
    b = client_for(world.b)
    assert [a["account_number"] for a in b.get("/accounts/").json()["results"]] == [world.b_jod.pk]
    assert b.get("/bill/").json()["results"] == []
    internal = b.get("/transfers/internal/").json()["results"]
    assert internal == []
    # B receives A's external transfer: B sees it, but never A's balance.
    external = b.get("/transfers/external/").json()["results"]
    assert {t["id"] for t in external} == {str(world.external.pk), str(world.reversed_txn.pk)}
    assert all(t["sender_balance_after"] is None for t in external)
    detail = b.get(f"/transfers/{world.external.pk}/").json()
    assert detail["sender_balance_after"] is None
    assert detail["receiver_balance_after"] is not None  # B's own balance


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/risk/", "/business/"])
def test_staff_only_areas(path, client_for):
    """Every /risk/ and /business/ operation (as they are added): 401 anonymous, 403 customer."""
    world = build_world()
    operations = [(m.upper(), p, op) for p, item in openapi()["paths"].items() for m, op in item.items()
                  if p.startswith(path)]
    assert operations or path == "/business/", f"no {path} operations in the schema"
    for method, template, operation in operations:
        url = template  # any id of the right type: permission is checked before the lookup
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                schema = parameter["schema"]
                value = ("1" if schema.get("type") == "integer" else
                         "00000000-0000-0000-0000-000000000000" if schema.get("format") == "uuid" else "x")
                url = url.replace("{" + parameter["name"] + "}", value)
        assert _call(world, "anonymous", method, url, {}).status_code == 401, (method, template)
        assert _call(world, "owner", method, url, {}).status_code == 403, (method, template)
        if method == "GET" and "{" not in template:
            assert _call(world, "staff", method, url).status_code == 200, (method, template)


# --- public authentication endpoints --------------------------------------------------------

@pytest.mark.django_db
def test_auth_endpoints_ignore_tokens_and_answer_on_credentials():
    world = build_world()
    for role in ROLES:
        email = f"matrix-{role}@example.com"
        register = _call(world, role, "POST", "/auth/register/", {"email": email, "password": PASSWORD})
        assert register.status_code == 201, (role, register.content)
        login = _call(world, role, "POST", "/auth/jwt/create/", {"email": email, "password": PASSWORD})
        assert login.status_code == 200
        refresh = _call(world, role, "POST", "/auth/jwt/refresh/", {"refresh": login.json()["refresh"]})
        assert refresh.status_code == 200
        logout = _call(world, role, "POST", "/auth/jwt/logout/", {"refresh": refresh.json()["refresh"]})
        assert logout.status_code == 205
        again = _call(world, role, "POST", "/auth/jwt/refresh/", {"refresh": refresh.json()["refresh"]})
        assert again.status_code == 401
        # v1.2: with 2FA on, the second step answers on the ticket and the code alone.
        user = User.objects.get(email=email)
        with time_machine.travel(START + dt.timedelta(minutes=len(email)), tick=False):
            secret, _ = enrol(user)
        with time_machine.travel(START + dt.timedelta(minutes=len(email) + 1), tick=False):
            ticket = _call(world, role, "POST", "/auth/jwt/create/", {"email": email, "password": PASSWORD})
            assert ticket.json()["mfa_required"] is True
            token = ticket.json()["mfa_token"]
            wrong = _call(world, role, "POST", "/auth/2fa/verify/", {"mfa_token": token + "x", "code": totp_code(secret)})
            assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "otp_invalid"
            verified = _call(world, role, "POST", "/auth/2fa/verify/", {"mfa_token": token, "code": totp_code(secret)})
            assert verified.status_code == 200 and set(verified.json()) == {"access", "refresh"}


@pytest.mark.django_db
def test_a_deactivated_users_token_stops_working():
    world = build_world()
    User.objects.filter(pk=world.a.pk).update(is_active=False)
    response = _call(world, "owner", "GET", "/accounts/")
    assert response.status_code == 401


# --- mass assignment ----------------------------------------------------------------------

PRIVILEGED = {"balance": "999999.000", "status": "REVERSED", "is_staff": True, "is_superuser": True,
              "is_active": False, "role": "fees", "daily_limit": "99999999.000", "fee_amount": "0.000"}


def _privileged(world: World) -> dict:
    return {**PRIVILEGED, "user": str(world.b.pk), "owner": str(world.b.pk), "id": str(world.b.pk),
            "account_number": world.b_jod.pk, "initiated_by": str(world.b.pk)}


def _assert_ignored_or_rejected(response):
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["error"]["code"] == "validation_error"
    return response.status_code < 300


@pytest.mark.django_db
def test_register_ignores_privileged_fields():
    world = build_world()
    body = {**_privileged(world), "email": "mass@example.com", "password": PASSWORD}
    if _assert_ignored_or_rejected(_call(world, "anonymous", "POST", "/auth/register/", body)):
        user = User.objects.get(email="mass@example.com")
        assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
        assert user.pk != world.b.pk


@pytest.mark.django_db
def test_me_ignores_privileged_fields():
    world = build_world()
    body = {**_privileged(world), "email": "taken-over@example.com"}
    _assert_ignored_or_rejected(_call(world, "owner", "PATCH", "/auth/me/", body))
    world.a.refresh_from_db()
    assert (world.a.is_staff, world.a.is_superuser, world.a.is_active) == (False, False, True)
    assert world.a.email != "taken-over@example.com"


@pytest.mark.django_db
def test_open_account_ignores_privileged_fields():
    world = build_world()
    response = _call(world, "owner", "POST", "/accounts/", {**_privileged(world), "type": "EUR"})
    if _assert_ignored_or_rejected(response):
        account = Account.objects.get(pk=response.json()["account_number"])
        assert account.owner_id == world.a.pk
        assert account.balance == 0 and account.is_active and account.role == Account.Role.CUSTOMER
        assert account.daily_limit == Account.DEFAULT_DAILY_LIMIT
    world.b_jod.refresh_from_db()
    assert world.b_jod.owner_id == world.b.pk


@pytest.mark.django_db
def test_cards_ignore_privileged_fields():
    world = build_world()
    body = {**_privileged(world), "card_type": "CREDIT", "card_number": "4111111111111111", "cvv": "123",
            "last4": "1111", "account": world.b_jod.pk}
    response = _call(world, "owner", "POST", f"/accounts/{world.a_jod.pk}/cards/", body)
    if _assert_ignored_or_rejected(response):
        card = Card.objects.get(pk=response.json()["id"])
        assert card.account_id == world.a_jod.pk and card.is_active and card.last4 != "1111"
    response = _call(world, "owner", "PATCH", f"/cards/{world.card.pk}/",
                     {**body, "card_type": "CREDIT", "is_active": True, "expiration_date": "2099-01-01"})
    _assert_ignored_or_rejected(response)
    card = Card.objects.get(pk=world.card.pk)
    assert (card.account_id, card.card_type, card.last4) == (world.a_jod.pk, world.card.card_type, world.card.last4)
    assert card.expiration_date == world.card.expiration_date


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["internal", "external"])
def test_transfers_ignore_privileged_fields(kind):
    world = build_world()
    body = {**_privileged(world), **transfer_body(kind)(world), "amount": "100.000", "kind": "deposit",
            "credited_amount": "99999.000"}
    world.a_jod.refresh_from_db()
    before = world.a_jod.balance
    response = _call(world, "owner", "POST", f"/transfers/{kind}/", body)
    if _assert_ignored_or_rejected(response):
        txn = Transaction.objects.get(pk=response.json()["id"])
        assert (txn.kind, txn.status, txn.initiated_by_id) == (kind, Transaction.Status.SUCCESS, world.a.pk)
        fee = Decimal("1.000") if kind == "external" else Decimal(0)
        assert txn.fee_amount == fee
        world.a_jod.refresh_from_db()
        assert world.a_jod.balance == before - Decimal("100") - fee


@pytest.mark.django_db
def test_bill_deposit_and_reversal_ignore_privileged_fields():
    world = build_world()
    bill = {**_privileged(world), "account": world.a_jod.pk, "biller": world.biller_id, "amount": "2.000",
            "reference": "MASS", "debited_amount": "0.001"}
    response = _call(world, "owner", "POST", "/bill/", bill)
    if _assert_ignored_or_rejected(response):
        payment = BillPayment.objects.get(pk=response.json()["id"])
        assert payment.status == BillPayment.Status.PAID and payment.debited_amount == Decimal("2.000")
    deposit = {**_privileged(world), "amount": "7.000"}
    response = _call(world, "staff", "POST", f"/accounts/{world.b_jod.pk}/deposit/", deposit)
    if _assert_ignored_or_rejected(response):
        txn = Transaction.objects.get(pk=response.json()["id"])
        assert (txn.kind, txn.status, txn.amount, txn.receiver_account_id) == (
            "deposit", "SUCCESS", Decimal("7.000"), world.b_jod.pk)
    reversal = {**_privileged(world), "reason": "mass"}
    response = _call(world, "staff", "POST", f"/transfers/{world.internal.pk}/reverse/", reversal)
    if _assert_ignored_or_rejected(response):
        assert Transaction.objects.get(pk=response.json()["id"]).kind == Transaction.Kind.REVERSAL
    world.b_jod.refresh_from_db()
    world.b.refresh_from_db()
    assert not world.b.is_staff and world.b_jod.role == Account.Role.CUSTOMER


@pytest.mark.django_db
def test_risk_writes_ignore_privileged_fields():
    from risk.models import BlockedIP, Incident

    world = build_world()
    extra = {**_privileged(world), "code": "forged", "severity": "low", "ip": "198.51.100.9", "dedup_key": "x",
             "status_changed_by": str(world.b.pk), "created_by": str(world.b.pk), "created_at": "2000-01-01T00:00:00Z"}
    response = _call(world, "staff", "PATCH", f"/risk/incidents/{world.incident.pk}/",
                     {**extra, "status": "acknowledged", "note": "seen"})
    _assert_ignored_or_rejected(response)
    incident = Incident.objects.get(pk=world.incident.pk)
    assert (incident.code, incident.severity, incident.user_id, incident.ip) == ("velocity", "high", world.a.pk, None)
    assert incident.status_changed_by_id in (None, world.staff.pk)
    response = _call(world, "staff", "POST", "/risk/blacklist/", {**extra, "cidr": "198.51.100.0/24", "id": 424242})
    if _assert_ignored_or_rejected(response):
        blocked = BlockedIP.objects.get(cidr="198.51.100.0/24")
        assert blocked.pk != 424242 and blocked.created_by_id == world.staff.pk
        assert blocked.created_at.year > 2000
