"""The API reference is right when pasted (issue 12).

Every operation has a summary and a description of its own; tags come in reading order; every
example validates against its own schema, account numbers with a real check digit; every POST that
moves money documents ``Idempotency-Key`` and ``Idempotent-Replayed``; staff operations name the
roles allowed; every error response lists the contract codes it can carry; no internal docstring
becomes a schema description.
"""

import inspect
import re
from decimal import Decimal

import pytest
from django.test import RequestFactory
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers
from rest_framework.request import Request

from api import money, roles
from api.exceptions import DomainError
from nexus.openapi import FRAMEWORK_STATUS
from nexus.permissions import StaffPermission
from tests.schema import ACCOUNT_NUMBER_PATTERN, Validator, openapi, operations
from tests.schema import errors as schema_errors

TAG_ORDER = ["auth", "two-factor", "accounts", "cards", "transfers", "bills", "standing-orders", "fx", "notifications", "approvals", "audit", "users",
             "business", "risk", "ops"]
MONEY_POSTS = {"/transfers/internal/", "/transfers/external/", "/bill/", "/accounts/{account_number}/deposit/",
               "/transfers/{transaction_id}/reverse/", "/approvals/{approval_id}/approve/", "/standing-orders/"}


OPERATIONS = list(operations())
IDS = [f"{method.upper()} {path}" for method, path, _ in OPERATIONS]


# --- summaries, descriptions, tags ------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_summary_and_a_description(method, path, operation):
    assert operation.get("summary"), "no summary: ReDoc and Swagger would show the raw operation id"
    assert operation["summary"] != operation["operationId"]
    assert len(operation.get("description", "")) > 20, "no description"


def test_no_two_operations_share_a_summary_or_a_description():
    summaries = [operation["summary"] for _, _, operation in OPERATIONS]
    descriptions = [operation["description"] for _, _, operation in OPERATIONS]
    assert len(set(summaries)) == len(summaries)
    assert len(set(descriptions)) == len(descriptions)


def test_tags_are_declared_in_reading_order_and_every_operation_has_one():
    assert [tag["name"] for tag in openapi()["tags"]] == TAG_ORDER
    used = set()
    for _, _, operation in OPERATIONS:
        assert len(operation["tags"]) == 1 and operation["tags"][0] in TAG_ORDER, operation["operationId"]
        used.add(operation["tags"][0])
    assert used == set(TAG_ORDER)
    grouped = [tag for group in openapi()["x-tagGroups"] for tag in group["tags"]]
    assert sorted(grouped) == sorted(TAG_ORDER), "ReDoc hides a tag that is in no group"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_no_docstring_is_inherited_into_a_schema_description():
    """drf-spectacular describes a serializer with the first docstring up its MRO: a mixin's
    developer notes (once, JSONTypes') became the description of every request body."""
    ours = [cls for cls in set(_subclasses(serializers.Serializer))
            if cls.__module__.split(".")[0] in {"api", "risk", "business"}]
    assert len(ours) > 20
    for cls in ours:
        own = inspect.cleandoc(cls.__dict__["__doc__"]) if cls.__dict__.get("__doc__") else ""
        assert get_doc(cls) == own, f"{cls.__qualname__} would be described by an inherited docstring"
    for name, component in openapi()["components"]["schemas"].items():
        assert "mixin" not in component.get("description", "").lower(), name


# --- roles ----------------------------------------------------------------------------------

def _views():
    """(path, method, view instance as the schema generator sees it) for every API endpoint."""
    factory = RequestFactory()
    for path, _, method, callback in EndpointEnumerator().get_api_endpoints():
        view = callback.cls(**getattr(callback, "initkwargs", {}))
        view.request = Request(factory.generic(method, "/"))
        view.format_kwarg = None
        yield path.replace("{pk}", "{id}"), method.lower(), view  # as drf-spectacular names it


def test_staff_operations_name_the_roles_allowed():
    checked = 0
    for path, method, view in _views():
        operation = openapi()["paths"].get(path, {}).get(method)
        if operation is None:  # excluded from the schema: the docs pages and the landing page
            continue
        if not any(isinstance(permission, StaffPermission) for permission in view.get_permissions()):
            assert "Staff only" not in operation["description"], path
            continue
        required = view.staff_permissions[method.upper()]
        allowed = [role for role, granted in roles.GRANTS.items() if set(required) <= set(granted)]
        assert allowed, f"{method} {path}: no role may call it"
        assert operation["summary"].endswith("(staff)")
        assert operation["description"].startswith(f"**Staff only.** Roles: {', '.join(allowed)} (and superusers).")
        assert "`permission_denied`" in operation["responses"]["403"]["description"]
        checked += 1
    assert checked == 23


# --- examples -------------------------------------------------------------------------------

# Amount fields and the field naming their currency: an example amount has exactly its minor units.
AMOUNT_CURRENCY = {"amount": "currency", "fee_amount": "currency", "sender_balance_after": "currency", "credited_amount": "credited_currency",
                   "receiver_balance_after": "credited_currency", "daily_limit": "currency", "balance": "currency"}


def _money_errors(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for field, currency_field in AMOUNT_CURRENCY.items():
            amount, currency = value.get(field), value.get(currency_field)
            if isinstance(amount, str) and currency in money.CURRENCIES:
                if -Decimal(amount).as_tuple().exponent != money.MINOR_UNITS[currency]:
                    found.append(f"{field} {amount} is not in {currency}'s minor units")
        if value.get("sender_account") and value.get("sender_account") == value.get("receiver_account"):
            found.append("the same account sends and receives")
        for item in value.values():
            found += _money_errors(item)
    return found


def examples():
    """(where, value, schema) for every example in the document."""
    for method, path, operation in OPERATIONS:
        where = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", []):
            for name, example in parameter.get("examples", {}).items():
                yield f"{where} parameter {parameter['name']} {name}", example["value"], parameter["schema"]
            if "example" in parameter:
                yield f"{where} parameter {parameter['name']}", parameter["example"], parameter["schema"]
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(f"response {status}", response) for status, response in operation["responses"].items()]
        for label, body in bodies:
            for media in body.get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    yield f"{where} {label} {name}", example["value"], media["schema"]
    for name, component in openapi()["components"]["schemas"].items():
        for prop, prop_schema in component.get("properties", {}).items():
            if "example" in prop_schema:
                yield f"component {name}.{prop}", prop_schema["example"], prop_schema


EXAMPLES = list(examples())


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_success_response_has_an_example(method, path, operation):
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            for media_type, media in response.get("content", {}).items():
                assert media.get("examples") or "example" in media, f"{status} {media_type}: no example"


def test_there_are_examples_to_check():
    assert len(EXAMPLES) > 40
    assert any(where.startswith("POST /transfers/external/ request") for where, _, _ in EXAMPLES)


@pytest.mark.parametrize(("where", "value", "schema"), EXAMPLES, ids=[where for where, _, _ in EXAMPLES])
def test_every_example_validates_against_its_schema(where, value, schema):
    found = schema_errors(value, schema) + _money_errors(value)
    assert not found, f"{where}: {found}"
    assert "string" not in _strings(value), f"{where}: Swagger's placeholder as a value"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def test_the_validator_refuses_a_wrong_check_digit():
    schema = {"type": "string", "pattern": ACCOUNT_NUMBER_PATTERN}
    assert not list(Validator(schema).iter_errors("412345678905"))
    assert list(Validator(schema).iter_errors("412345678901"))  # the example the docs once had


# --- idempotency ----------------------------------------------------------------------------

def test_every_money_post_documents_the_idempotency_headers():
    components = openapi()["components"]["schemas"]
    keyed = set()
    for method, path, operation in OPERATIONS:
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = body.get("schema", {}).get("$ref", "")
        if method == "post" and "idempotency_key" in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
            keyed.add(path)
    assert keyed | {"/approvals/{approval_id}/approve/"} == MONEY_POSTS
    for path in MONEY_POSTS:
        operation = openapi()["paths"][path]["post"]
        header = next(p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key")
        assert "new for every operation" in header["description"] and "example" not in header
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                assert "Idempotent-Replayed" in response.get("headers", {}), (path, status)
        for name, example in body_examples(operation):
            assert "idempotency_key" not in example, f"{path} {name}: a fixed key fails on the second try"


def body_examples(operation):
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if operation.get("requestBody"):
        assert media.get("examples"), "no request example: Swagger UI would invent one with \"string\" values"
    return [(name, example["value"]) for name, example in media.get("examples", {}).items()]


# --- errors ---------------------------------------------------------------------------------

def _codes() -> dict[str, set[int]]:
    """Each code's statuses: one, except ``otp_invalid`` (401 at login, 403 for a payment's step-up)."""
    known: dict[str, set[int]] = {}
    for cls in _subclasses(DomainError):
        known.setdefault(cls.code, set()).add(cls.status_code)
    for code, status in FRAMEWORK_STATUS.items():
        known.setdefault(code, set()).add(int(status))
    return known


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_error_response_lists_real_codes_of_its_status(method, path, operation):
    known = _codes()
    errors = {status: response for status, response in operation["responses"].items() if int(status) >= 400}
    assert {"414", "429", "431"} <= set(errors) or path == "/health/"
    for status, response in errors.items():
        if (path, status) == ("/health/", "503"):
            continue  # the health check's own answer, not an error body
        codes = re.findall(r"^- `(\w+)`: ", response["description"], re.MULTILINE)
        assert codes, f"{status}: no code listed"
        for code in codes:
            assert int(status) in known.get(code, ()), f"{status} lists `{code}`, which is a {known.get(code)}"
        media = response["content"]["application/json"]
        assert media["schema"]["properties"]["error"]["properties"]["code"]["enum"] == codes, status
        assert [example["value"]["error"]["code"] for example in media["examples"].values()] == codes, status


def test_business_rules_are_listed_where_they_apply():
    external = openapi()["paths"]["/transfers/external/"]["post"]["responses"]["422"]["description"]
    for code in ("insufficient_funds", "daily_limit_exceeded", "same_account", "receiver_not_found",
                 "account_inactive", "amount_too_small", "balance_limit", "idempotency_key_reused"):
        assert f"`{code}`" in external
    internal = openapi()["paths"]["/transfers/internal/"]["post"]["responses"]["422"]["description"]
    assert "`receiver_not_found`" not in internal
    login = openapi()["paths"]["/auth/jwt/create/"]["post"]["responses"]
    assert "`invalid_credentials`" in login["401"]["description"] and "`locked_out`" in login["429"]["description"]
    assert "`token_expired`" in openapi()["paths"]["/accounts/"]["get"]["responses"]["401"]["description"]
    assert "409" not in openapi()["paths"]["/accounts/"]["get"]["responses"]


# --- constraints the fuzzer needs -----------------------------------------------------------

def test_request_schemas_carry_the_real_constraints():
    components = openapi()["components"]["schemas"]
    register = components["RegisterRequest"]["properties"]
    assert register["email"]["format"] == "email"
    assert (register["password"]["minLength"], register["password"]["maxLength"]) == (12, 128)
    assert re.fullmatch(components["RefreshRequest"]["properties"]["refresh"]["pattern"], "a.b.c")
    transfer = components["TransferCreateRequest"]["properties"]
    assert transfer["sender_account"]["pattern"] == ACCOUNT_NUMBER_PATTERN
    amount = re.compile(transfer["amount"]["pattern"])
    assert all(amount.search(text) for text in ("0.001", "1", "100.50", "1000000000", "1000000000.000"))
    assert not any(amount.search(text) for text in ("0", "0.000", "-1", "1e3", "1000000000.001", "1.0001"))
    cidr = re.compile(components["BlockedIPRequest"]["properties"]["cidr"]["pattern"])
    assert all(cidr.search(text) for text in ("198.51.100.7", "198.51.100.0/24", "2001:db8::/32", " ::1 "))
    key = openapi()["paths"]["/transfers/external/"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["schema"].get("pattern") for p in key)


# --- what Execute sends, and the version ------------------------------------------------------------

def test_no_period_bound_is_prefilled_so_execute_answers_the_whole_list():
    """Swagger UI fills a parameter's box with its example: one fixed day as both ``from`` and ``to`` answered
    an empty statement (and an empty audit trail, incident list, business figures) on the demo bank."""
    bounds = [(operation["operationId"], parameter["name"]) for _, _, operation in OPERATIONS
              for parameter in operation.get("parameters", [])
              if parameter["in"] == "query" and parameter["schema"].get("format") in ("date", "date-time")]
    assert ("accounts_statement_csv", "from") in bounds and ("audit_list", "to") in bounds
    for _, _, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if (operation["operationId"], parameter["name"]) in bounds:
                assert "example" not in parameter and "examples" not in parameter
                assert "example" not in parameter["schema"], (operation["operationId"], parameter["name"])


def test_the_schema_carries_the_contracts_version():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()
    contract = re.search(r"follows contract v(\d+\.\d+)", guide).group(1)
    info = openapi()["info"]
    assert info["version"] == f"{contract}.0"
    assert f"**Version {contract}**" in info["description"]
