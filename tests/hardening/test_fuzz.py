"""Schema fuzzing: schemathesis against the app's own OpenAPI schema, in-process.

Every operation is called with generated valid and invalid requests, as a customer, as staff and
anonymously. Every response must be non-5xx and match the schema: a documented status code, the
documented content type and a body that validates against it (errors: the contract's error shape).

Path parameters and the account/biller fields of request bodies may also take the ids of real
objects (the customer's own and another customer's), so the fuzzer reaches the services, not only
the 404 branch; dates and amounts may also take values at and past the v1.1 bounds. The run is bounded for CI; ``NEXUS_FUZZ_EXAMPLES=200`` runs a longer, random one.
"""

import copy
import json
import os
from functools import cache

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.ledger_checks import find_discrepancies

EXAMPLES = int(os.environ.get("NEXUS_FUZZ_EXAMPLES", "0") or 0)
LONG_RUN = EXAMPLES > 0
MAX_EXAMPLES = EXAMPLES or 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
ROLES = ["customer", "staff", "anonymous"]


@cache
def openapi() -> dict:
    """The schema the app serves at /api/schema/, generated in-process, as plain JSON."""
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


OPERATIONS = [(method.upper(), path) for path, item in openapi()["paths"].items() for method in item
              if method in {"get", "post", "put", "patch", "delete"}]


def _or_real(original: dict, values: list) -> dict:
    return {"anyOf": [{"enum": values}, original]}


# Values at and past the v1.1 bounds, offered beside the schema's own (which the bounds exclude):
# every date, date-time and amount the API takes also meets these, and must answer 4xx, not 500.
EXTREMES = {
    "date": ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01", "2000-01-01", "2999-12-31"],
    "date-time": ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T00:00:00+23:59",
                  "2000-01-01T00:00:00+14:00", "2999-12-31T23:59:59-14:00"],
    "decimal": ["99999999999999999.999", "1000000000.001", "1000000000", "1000000000.000", "0.001", "0.004",
                "0.01"],
}


def _or_extreme(schema: dict) -> dict:
    values = EXTREMES.get(schema.get("format"))
    return _or_real(schema, values) if values else schema


# Well-formed account numbers (right check digit) that belong to nobody: 404 or receiver_not_found.
UNKNOWN_ACCOUNTS = ["412345678905", "520987612345", "100000000016"]
ACCOUNT_FIELDS = {"sender_account", "receiver_account", "account"}


def enrich(schema: dict, world) -> dict:
    """Let generated ids be those of real objects too (request side only; responses are untouched).

    An account number in a request body is drawn from real and unknown well-formed numbers only: its
    check digit is beyond what a pattern can say, and random digits would stop nearly every valid
    request at the 400 (negative cases still send anything else).
    """
    schema = copy.deepcopy(schema)
    accounts = [*world.a_accounts, world.b_jod.pk]
    by_name = {
        "account_number": accounts, "sender_account": accounts, "receiver_account": accounts, "account": accounts,
        "card_id": [str(world.card.pk)],
        "transaction_id": [str(t.pk) for t in (world.internal, world.external, world.reversed_txn)],
        "bill_id": [str(world.bill.pk)],
        "biller": [world.biller_id],
    }
    by_path_id = {"/risk/incidents/": [str(world.incident.pk)], "/risk/blacklist/": [world.blocked.pk],
                  "/users/": [str(world.b.pk), str(world.staff.pk)],
                  "/notifications/": [str(n.pk) for n in world.a.notifications.all()]}
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                prefix = next((p for p in by_path_id if path.startswith(p)), None)
                if parameter["in"] == "path" and parameter["name"] == "id" and prefix and by_path_id[prefix]:
                    parameter["schema"] = _or_real(parameter["schema"], by_path_id[prefix])
            # The test sends each role's credentials itself; a generated (or removed) Authorization
            # header would be overridden and muddle the negative-data check.
            operation.pop("security", None)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in by_name:
                    parameter["schema"] = _or_real(parameter["schema"], by_name[parameter["name"]])
                elif parameter["in"] == "query":
                    parameter["schema"] = _or_extreme(parameter["schema"])
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            for prop, prop_schema in component.get("properties", {}).items():
                if prop in ACCOUNT_FIELDS:
                    component["properties"][prop] = {"type": "string", "enum": [*accounts, *UNKNOWN_ACCOUNTS]}
                elif prop in by_name:
                    component["properties"][prop] = _or_real(prop_schema, by_name[prop])
                else:
                    component["properties"][prop] = _or_extreme(prop_schema)
    return schema


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_operation(method, path, world, wsgi_app):
    schema = schemathesis.openapi.from_dict(enrich(openapi(), world))
    operation = schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=not LONG_RUN,
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=list(HealthCheck), print_blob=LONG_RUN,
    )
    @given(case=cases, role=st.sampled_from(ROLES))
    def fuzz(case, role):
        for name, value in (case.path_parameters or {}).items():
            # As any HTTP client would: schemathesis leaves "?" and "#" unescaped in path values.
            if isinstance(value, str):
                case.path_parameters[name] = value.replace("?", "%3F").replace("#", "%23")
        response = case.call(app=wsgi_app, headers=world.headers[role])
        case.validate_response(response, checks=CHECKS, headers=world.headers[role])

    fuzz()
    # Whatever the fuzzer did, the ledger still explains every balance and every transaction balances.
    assert find_discrepancies() == []
