"""Every answer is what its operation declares (issue 13: honest serializers).

Serializers once declared one set of fields and built another by hand (in ``to_representation``, or
as a dict in the view), so the schema could drift from the responses without any test noticing.
Now:

- every success answer of every operation in the OpenAPI document is produced here by a real
  request and validated against the schema the operation declares, strictly: no undeclared field,
  every required one present, types and formats right (a new operation fails until a case is
  added below);
- the few serializers that write their output by hand for speed give exactly what their declared
  fields give, for each visibility variant, checked on real model instances.
"""

import re
import zoneinfo
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from api import selectors, serializers
from api.bankday import bank_day
from api.models import Account, Approval, Card, Notification, Transaction
from api.services import approvals, notifications, transfers
from api.services.accounts import card_issue
from nexus import jobs, refcache
from risk import services as risk
from risk.models import Incident, LoginEvent
from tests.factories import PASSWORD, BillerFactory, enrol, totp_code
from tests.schema import errors, is_error_schema, openapi, operations
from tests.world import World

pytestmark = pytest.mark.django_db

BLOCKED_IP = "198.51.100.7"


# --- one case (or more, for variants) per declared answer ---------------------------------------

CASES: dict[tuple[str, int, str], Callable[[World], object]] = {}


def case(operation: str, status: int, variant: str = ""):
    def register(make):
        CASES[(operation, status, variant)] = make
        return make
    return register


def post(client, url, data=None):
    return client.post(url, data or {}, format="json")


def pending_deposit(world) -> Approval:
    return approvals.staff_deposit(staff=world.teller, account_number=world.a_jod.pk, amount=Decimal("20000"),
                                   description="Cash at branch 12")


# auth and 2fa

@case("POST /auth/register/", 201)
def _(world):
    return post(APIClient(), "/auth/register/", {"email": "dana@example.com", "password": "Olive-Harbour-1987",
                                                  "first_name": "Dana", "last_name": "Saleh", "country": "JO"})


@case("POST /auth/jwt/create/", 200, "token pair")
def _(world):
    return post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD})


@case("POST /auth/jwt/create/", 200, "second factor required")
def _(world):
    enrol(world.a)
    return post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD})


@case("POST /auth/jwt/refresh/", 200)
def _(world):
    tokens = post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD}).json()
    return post(APIClient(), "/auth/jwt/refresh/", {"refresh": tokens["refresh"]})


@case("POST /auth/jwt/logout/", 205)
def _(world):
    tokens = post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD}).json()
    return post(APIClient(), "/auth/jwt/logout/", {"refresh": tokens["refresh"]})


@case("GET /auth/me/", 200)
def _(world):
    return world.client(world.a).get("/auth/me/")


@case("PATCH /auth/me/", 200)
def _(world):
    return world.client(world.a).patch("/auth/me/", {"last_name": "Haddad"}, format="json")


@case("POST /auth/password/", 204)
def _(world):
    return post(world.client(world.a), "/auth/password/",
                {"current_password": PASSWORD, "new_password": "Quiet-Lantern-4417"})


@case("POST /auth/2fa/setup/", 200)
def _(world):
    return post(world.client(world.a), "/auth/2fa/setup/", {"password": PASSWORD})


@case("POST /auth/2fa/confirm/", 200)
def _(world):
    client = world.client(world.a)
    secret = post(client, "/auth/2fa/setup/", {"password": PASSWORD}).json()["secret"]
    return post(client, "/auth/2fa/confirm/", {"code": totp_code(secret)})


@case("POST /auth/2fa/disable/", 204)
def _(world):
    _, recovery = enrol(world.a)
    return post(world.client(world.a), "/auth/2fa/disable/", {"password": PASSWORD, "code": recovery[0]})


@case("POST /auth/2fa/verify/", 200)
def _(world):
    _, recovery = enrol(world.a)
    ticket = post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD}).json()
    return post(APIClient(), "/auth/2fa/verify/", {"mfa_token": ticket["mfa_token"], "code": recovery[0]})


# accounts and cards

@case("GET /accounts/", 200)
def _(world):
    return world.client(world.a).get("/accounts/")


@case("POST /accounts/", 201)
def _(world):
    return post(world.client(world.a), "/accounts/", {"type": "EUR"})


@case("GET /accounts/{account_number}/", 200)
def _(world):
    return world.client(world.a).get(f"/accounts/{world.a_jod.pk}/")


@case("PATCH /accounts/{account_number}/", 200)
def _(world):
    return world.client(world.staff).patch(f"/accounts/{world.a_jod.pk}/", {"daily_limit": "2500.000"}, format="json")


@case("PATCH /accounts/{account_number}/", 202, "a teller raises the limit: held")
def _(world):
    return world.client(world.teller).patch(f"/accounts/{world.a_jod.pk}/", {"daily_limit": "25000.000"},
                                            format="json")


@case("GET /accounts/{account_number}/transactions/", 200)
def _(world):  # the deposit (credit), the transfer and its fee (debits)
    return world.client(world.a).get(f"/accounts/{world.a_jod.pk}/transactions/")


@case("GET /accounts/{account_number}/transactions.csv", 200)
def _(world):
    return world.client(world.a).get(f"/accounts/{world.a_jod.pk}/transactions.csv")


@case("POST /accounts/{account_number}/deposit/", 201)
def _(world):
    return post(world.client(world.staff), f"/accounts/{world.a_jod.pk}/deposit/", {"amount": "250.000"})


@case("POST /accounts/{account_number}/deposit/", 202)
def _(world):
    return post(world.client(world.teller), f"/accounts/{world.a_jod.pk}/deposit/", {"amount": "20000.000"})


@case("GET /accounts/{account_number}/cards/", 200)
def _(world):
    card_issue(account=world.a_jod, card_type=Card.Type.DEBIT)
    return world.client(world.a).get(f"/accounts/{world.a_jod.pk}/cards/")


@case("POST /accounts/{account_number}/cards/", 201)
def _(world):
    return post(world.client(world.a), f"/accounts/{world.a_jod.pk}/cards/", {"card_type": "CREDIT"})


@case("GET /cards/{card_id}/", 200)
def _(world):
    card, _, _ = card_issue(account=world.a_jod, card_type=Card.Type.DEBIT)
    return world.client(world.a).get(f"/cards/{card.pk}/")


@case("PATCH /cards/{card_id}/", 200)
def _(world):
    card, _, _ = card_issue(account=world.a_jod, card_type=Card.Type.DEBIT)
    return world.client(world.a).patch(f"/cards/{card.pk}/", {"is_active": False}, format="json")


# transfers: the receiver's balance is shown only to whoever owns it

@case("GET /transfers/internal/", 200)
def _(world):
    post(world.client(world.a), "/transfers/internal/",
         {"sender_account": world.a_jod.pk, "receiver_account": world.a_usd.pk, "amount": "10.000"})
    return world.client(world.a).get("/transfers/internal/")


@case("POST /transfers/internal/", 201)
def _(world):
    return post(world.client(world.a), "/transfers/internal/",
                {"sender_account": world.a_usd.pk, "receiver_account": world.a_jod.pk, "amount": "14.10"})


@case("GET /transfers/external/", 200, "sender")
def _(world):
    return world.client(world.a).get("/transfers/external/")


@case("GET /transfers/external/", 200, "receiver")
def _(world):
    return world.client(world.b).get("/transfers/external/")


@case("POST /transfers/external/", 201)
def _(world):
    return post(world.client(world.a), "/transfers/external/",
                {"sender_account": world.a_usd.pk, "receiver_account": world.b_jod.pk, "amount": "20.00",
                 "description": "Converted"})


@case("GET /transfers/{transaction_id}/", 200, "sender")
def _(world):
    return world.client(world.a).get(f"/transfers/{world.external.pk}/")


@case("GET /transfers/{transaction_id}/", 200, "receiver")
def _(world):
    return world.client(world.b).get(f"/transfers/{world.external.pk}/")


@case("GET /transfers/{transaction_id}/", 200, "staff")
def _(world):
    return world.client(world.staff).get(f"/transfers/{world.external.pk}/")


@case("POST /transfers/{transaction_id}/reverse/", 201)
def _(world):
    return post(world.client(world.staff), f"/transfers/{world.external.pk}/reverse/", {"reason": "Wrong account"})


@case("POST /transfers/{transaction_id}/reverse/", 202)
def _(world):
    # The world's external transfer already waits for a reversal (world.approval): its internal one does not.
    return post(world.client(world.teller), f"/transfers/{world.internal.pk}/reverse/", {"reason": "Wrong account"})


# fx and bills

@case("GET /fx/rates/", 200)
def _(world):
    return APIClient().get("/fx/rates/")


@case("GET /fx/quote/", 200)
def _(world):
    return APIClient().get("/fx/quote/", {"from": "USD", "to": "EUR", "amount": "100.00"})


@case("GET /billers/", 200)
def _(world):
    return world.client(world.a).get("/billers/")


def pay_bill(world):
    biller = BillerFactory(currency="USD")  # paid from the JOD account: converted
    return post(world.client(world.a), "/bill/",
                {"account": world.a_jod.pk, "biller": biller.pk, "amount": "42.75", "reference": "JEPCO-00912345"})


@case("GET /bill/", 200)
def _(world):
    pay_bill(world)
    return world.client(world.a).get("/bill/")


@case("POST /bill/", 201)
def _(world):
    return pay_bill(world)


@case("GET /bill/{bill_id}/", 200)
def _(world):
    return world.client(world.a).get(f"/bill/{pay_bill(world).json()['id']}/")


# standing orders (v1.3)

def standing_order(world, first_date=None) -> dict:
    """Alice's order to Bob, due today unless ``first_date`` says otherwise (then run by the captured commit)."""
    return post(world.client(world.a), "/standing-orders/", {
        "sender_account": world.a_jod.pk, "receiver_account": world.b_jod.pk, "amount": "12.500",
        "description": "Rent", "interval": "monthly", "first_date": first_date or bank_day().isoformat()})


@case("POST /standing-orders/", 201)
def _(world):
    return standing_order(world)


@case("GET /standing-orders/", 200)
def _(world):
    standing_order(world)
    return world.client(world.a).get("/standing-orders/")


@case("GET /standing-orders/{order_id}/", 200)
def _(world):
    return world.client(world.a).get(f"/standing-orders/{standing_order(world).json()['id']}/")


@case("DELETE /standing-orders/{order_id}/", 204)
def _(world):
    return world.client(world.a).delete(f"/standing-orders/{standing_order(world).json()['id']}/")


@case("GET /standing-orders/{order_id}/runs/", 200)
def _(world):
    order = standing_order(world).json()["id"]
    jobs.drain_all()  # the run of today: the worker's
    return world.client(world.a).get(f"/standing-orders/{order}/runs/")


# notifications and staff control of users

@case("GET /notifications/", 200)
def _(world):
    notifications.mark_read(user=world.a, notification_id=Notification.objects.filter(user=world.a).first().pk)
    return world.client(world.a).get("/notifications/")


@case("POST /notifications/read-all/", 204)
def _(world):
    return post(world.client(world.a), "/notifications/read-all/")


@case("POST /notifications/{id}/read/", 204)
def _(world):
    return post(world.client(world.a), f"/notifications/{Notification.objects.filter(user=world.a)[0].pk}/read/")


@case("POST /users/{id}/block/", 200)
def _(world):
    return post(world.client(world.staff), f"/users/{world.b.pk}/block/", {"reason": "Phone stolen"})


@case("POST /users/{id}/unblock/", 200)
def _(world):
    post(world.client(world.staff), f"/users/{world.b.pk}/block/", {"reason": "Phone stolen"})
    return post(world.client(world.staff), f"/users/{world.b.pk}/unblock/", {"reason": "Phone found"})


@case("POST /users/{id}/revoke-sessions/", 204)
def _(world):
    return post(world.client(world.staff), f"/users/{world.b.pk}/revoke-sessions/", {"reason": "Phone stolen"})


# dual control and the audit trail

@case("GET /approvals/", 200)
def _(world):
    pending_deposit(world)
    return world.client(world.staff).get("/approvals/")


@case("GET /approvals/{approval_id}/", 200)
def _(world):
    return world.client(world.staff).get(f"/approvals/{pending_deposit(world).pk}/")


@case("POST /approvals/{approval_id}/approve/", 201)
def _(world):
    return post(world.client(world.staff), f"/approvals/{pending_deposit(world).pk}/approve/")


@case("POST /approvals/{approval_id}/approve/", 200, "a limit increase: the account")
def _(world):
    held = approvals.request_limit_change(staff=world.teller, account=world.a_jod, daily_limit=Decimal("25000"))
    return post(world.client(world.staff), f"/approvals/{held.pk}/approve/")


@case("POST /users/{id}/reset-2fa/", 200)
def _(world):
    return post(world.client(world.staff), f"/users/{world.b.pk}/reset-2fa/", {"reason": "Lost phone"})


@case("POST /approvals/{approval_id}/reject/", 200)
def _(world):
    return post(world.client(world.staff), f"/approvals/{pending_deposit(world).pk}/reject/", {"reason": "No receipt"})


@case("GET /audit/", 200)
def _(world):
    world.client(world.staff).patch(f"/accounts/{world.a_jod.pk}/", {"is_active": False}, format="json")
    return world.client(world.staff).get("/audit/")


# business figures

@case("GET /business/overview/", 200)
def _(world):
    return world.client(world.staff).get("/business/overview/")


@case("GET /business/daily/", 200)
def _(world):
    return world.client(world.staff).get("/business/daily/")


@case("GET /business/weekly/", 200)
def _(world):
    return world.client(world.staff).get("/business/weekly/")


@case("GET /business/monthly/", 200)
def _(world):
    return world.client(world.staff).get("/business/monthly/")


# risk

def incident(world) -> Incident:
    risk.block_ip(cidr=BLOCKED_IP, reason="Credential stuffing source", created_by=world.staff)
    refcache.clear()  # the blacklist is reference data, read again within seconds
    assert APIClient().get("/fx/rates/", REMOTE_ADDR=BLOCKED_IP).status_code == 403  # raises `blacklisted_ip`
    return Incident.objects.get(code="blacklisted_ip")


@case("GET /risk/incidents/", 200)
def _(world):
    incident(world)
    return world.client(world.staff).get("/risk/incidents/")


@case("GET /risk/incidents/{id}/", 200)
def _(world):
    return world.client(world.staff).get(f"/risk/incidents/{incident(world).pk}/")


@case("PATCH /risk/incidents/{id}/", 200)
def _(world):
    return world.client(world.staff).patch(f"/risk/incidents/{incident(world).pk}/",
                                           {"status": "resolved", "note": "Known range"}, format="json")


@case("GET /risk/login-events/", 200)
def _(world):
    post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": PASSWORD})
    post(APIClient(), "/auth/jwt/create/", {"email": world.a.email, "password": "not-the-password"})
    assert LoginEvent.objects.count() == 2
    return world.client(world.staff).get("/risk/login-events/")


@case("GET /risk/blacklist/", 200)
def _(world):
    risk.block_ip(cidr="198.51.100.0/24", reason="", created_by=world.staff)
    return world.client(world.staff).get("/risk/blacklist/")


@case("POST /risk/blacklist/", 201)
def _(world):
    return post(world.client(world.staff), "/risk/blacklist/", {"cidr": "2001:db8::/48", "reason": "Scanner"})


@case("DELETE /risk/blacklist/{id}/", 204)
def _(world):
    blocked = risk.block_ip(cidr="198.51.100.0/24", reason="", created_by=world.staff)
    return world.client(world.staff).delete(f"/risk/blacklist/{blocked.pk}/")


# operations

@case("GET /health/", 200)
def _(world):
    return APIClient().get("/health/")


@case("GET /health/", 503)
def _(world):
    APIClient().get("/health/")  # the IP blacklist, read before any view, is loaded

    def broken(*args, **kwargs):
        raise OperationalError("database down")  # an outage, as the driver reports one

    saved, connection.cursor = connection.cursor, broken
    try:
        return APIClient().get("/health/")
    finally:
        connection.cursor = saved


# --- the checks ------------------------------------------------------------------------------

def declared_answers() -> set[tuple[str, int]]:
    """Every answer an operation declares, but the errors: those are one shape from one handler
    (``nexus.exceptions``), checked by tests/nexus/test_schema_docs.py and the hardening tests."""
    return {(f"{method.upper()} {path}", int(status))
            for method, path, operation in operations()
            for status, response in operation["responses"].items()
            if int(status) < 400 or not is_error_schema(response)}


def test_every_declared_answer_has_a_case():
    assert {(operation, status) for operation, status, _ in CASES} == declared_answers()


def _template(path: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)))


def _non_empty(body) -> bool:
    """A list with nothing in it would validate whatever its items are."""
    if isinstance(body, list):
        return bool(body) and all(_non_empty(item) for item in body)
    if isinstance(body, dict):
        return all(_non_empty(value) for key, value in body.items() if key in ("results", "recovery_codes"))
    return True


@pytest.mark.parametrize("key", sorted(CASES), ids=[" ".join(map(str, key)).strip() for key in sorted(CASES)])
def test_each_answer_is_exactly_what_its_operation_declares(key, world, django_capture_on_commit_callbacks):
    operation, status, _ = key
    method, path = operation.split(" ")
    with django_capture_on_commit_callbacks(execute=True):
        response = CASES[key](world)
    assert response.status_code == status, response.content
    request = response.wsgi_request
    assert request.method == method and _template(path).fullmatch(request.path), "the case calls another operation"
    declared = openapi()["paths"][path][method.lower()]["responses"][str(status)]
    if "content" not in declared:
        assert response.content == b""
        return
    if "text/csv" in declared["content"]:
        assert response["Content-Type"].startswith("text/csv") and response.content.decode().count("\n") > 1
        return
    body = response.json()
    assert _non_empty(body), "an empty list proves nothing"
    found = errors(body, declared["content"]["application/json"]["schema"])
    assert not found, f"{operation} {status} answered what it does not declare:\n" + "\n".join(found)


def test_the_check_refuses_a_field_added_or_dropped_by_hand():
    schema = openapi()["paths"]["/accounts/{account_number}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    account = {"account_number": "412345678905", "type": "Savings", "currency": "JOD", "balance": "1.000",
               "is_active": True, "daily_limit": "10000.000", "created_at": "2026-03-14T09:30:12.345678Z"}
    assert errors(account, schema) == []
    assert errors({**account, "owner": "alice@example.com"}, schema)
    assert errors({key: value for key, value in account.items() if key != "daily_limit"}, schema)
    assert errors({**account, "is_active": "true"}, schema)
    assert errors({**account, "created_at": "14/03/2026"}, schema)


# --- serializers that write their output by hand -----------------------------------------------

# Each writes out in ``to_representation`` what its declared fields would give, on a hot path (the
# figure is beside it); nothing else overrides ``to_representation``.
HAND_BUILT = {serializers.AccountSerializer, serializers.TransactionSerializer,
              serializers.StatementLineSerializer, serializers.NotificationSerializer}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_only_the_hot_serializers_write_their_output_by_hand():
    ours = {cls for cls in _subclasses(drf.BaseSerializer)
            if cls.__module__.split(".")[0] in {"api", "business", "risk", "nexus"}}
    assert {cls for cls in ours if "to_representation" in cls.__dict__} == HAND_BUILT


def _viewed_by(user) -> dict:
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    return {"request": request}


def _samples(world):
    """(serializer, instance) for every hand-built serializer, in each of its variants."""
    with_accounts = Transaction.objects.select_related("sender_account", "receiver_account")
    internal = transfers.transfer_internal(user=world.a, sender_number=world.a_jod.pk, receiver_number=world.a_usd.pk,
                                           amount=Decimal("10"))
    reversal = approvals.staff_reversal(staff=world.staff, transaction_id=world.external.pk, reason="Wrong account")
    for account in (world.a_jod, world.a_usd):
        yield serializers.AccountSerializer(), Account.objects.get(pk=account.pk)
    for viewer, txn in [(world.a, world.external), (world.b, world.external), (world.staff, world.external),
                        (world.a, internal), (world.staff, internal), (world.a, reversal), (world.b, reversal),
                        (world.a, with_accounts.filter(kind=Transaction.Kind.DEPOSIT, receiver_account=world.a_jod)[0])]:
        yield serializers.TransactionSerializer(context=_viewed_by(viewer)), with_accounts.get(pk=txn.pk)
    lines = selectors.statement_page(world.a, world.a_jod.pk, date_from=None, date_to=None, limit=50)
    assert {line["direction"] for line in lines} == {"debit", "credit"} and len(lines) >= 5
    for line in lines:
        yield serializers.StatementLineSerializer(), line
    mine = Notification.objects.filter(user=world.a)
    notifications.mark_read(user=world.a, notification_id=mine[0].pk)
    for notification in Notification.objects.filter(user=world.a):
        yield serializers.NotificationSerializer(), notification


def test_hand_built_output_is_what_the_declared_fields_give(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        samples = list(_samples(world))
    assert {type(serializer) for serializer, _ in samples} == HAND_BUILT
    components = openapi()["components"]["schemas"]
    for serializer, instance in samples:
        name = type(serializer).__name__
        by_hand = serializer.to_representation(instance)
        by_fields = dict(drf.Serializer.to_representation(serializer, instance))
        # Only a field the schema does not require may be left out (a receiver's balance, shown to its owner).
        optional = set(by_fields) - set(components[name.removesuffix("Serializer")]["required"])
        assert set(by_hand) <= set(by_fields) and set(by_fields) - set(by_hand) <= optional, name
        assert by_hand == {field: by_fields[field] for field in by_hand}, name


def test_a_receivers_balance_is_shown_to_its_owner_only(world):
    def seen_by(user):
        return serializers.TransactionSerializer(world.external, context=_viewed_by(user)).data

    assert "receiver_balance_after" not in seen_by(world.a) and seen_by(world.a)["sender_balance_after"]
    assert seen_by(world.b)["receiver_balance_after"] and seen_by(world.b)["sender_balance_after"] is None
    assert seen_by(world.b)["idempotency_key"] is None


def test_a_statement_csv_has_the_lines_json_has(world):
    client = world.client(world.a)
    lines = client.get(f"/accounts/{world.a_jod.pk}/transactions/").json()["results"]
    rows = client.get(f"/accounts/{world.a_jod.pk}/transactions/", {"format": "csv"}).content.decode().splitlines()
    assert rows[0].split(",") == list(lines[0])
    assert [row.split(",")[0] for row in rows[1:]] == [line["transaction_id"] for line in lines]
    assert rows[1].split(",")[-1] == lines[0]["created_at"]  # the same instant, written the same way


def test_times_are_written_in_utc_whatever_zone_is_active(world):
    """A deposit made in the admin (Amman's zone active) pushed its notification with a +03:00 time,
    where the list shows the same notification in UTC."""
    notification = Notification.objects.filter(user=world.a).first()
    with timezone.override(zoneinfo.ZoneInfo("Asia/Amman")):
        shown = serializers.NotificationSerializer().to_representation(notification)
    assert shown["created_at"].endswith("Z")
    assert shown == world.client(world.a).get("/notifications/").json()["results"][0]
