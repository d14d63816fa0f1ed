"""What the views share in their OpenAPI documentation: error answers, idempotency headers, examples.

Examples are pasted by client developers as they are, so they must be valid: account numbers carry
a real check digit (``tests/nexus/test_schema_docs.py`` checks every example against its schema).
"""

from collections import defaultdict

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from nexus.openapi import describe_errors

from .. import demo, exceptions
from ..services.money_request import KEY_PATTERN

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)


def errors(*declared) -> dict[int, OpenApiResponse]:
    """The error answers of an operation's own logic, by status.

    Each item is a ``DomainError`` subclass (its code, status and default message) or a pair
    (subclass, what it means for this operation). The framework's own errors (authentication,
    throttles, limits) are added to every operation by ``nexus.openapi.AutoSchema``.
    """
    by_status = defaultdict(list)
    for item in declared:
        error, text = item if isinstance(item, tuple) else (item, item.default_message)
        by_status[error.status_code].append((error.code, text[0].lower() + text[1:]))
    return {status: OpenApiResponse(ErrorSerializer, description=describe_errors(status, codes))
            for status, codes in sorted(by_status.items())}


NOT_FOUND = (exceptions.NotFound, "no such object, or not one the caller may see (never revealed which).")
# Every money POST: the key's refusals, and the amount's precision, which only the account's currency decides.
KEY_ERRORS = (exceptions.IdempotencyKeyInUse, exceptions.IdempotencyKeyReused)
PRECISION = (exceptions.InvalidInput, "the amount has more decimals than the currency allows (JOD 3, USD 2, EUR 2).")

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, pattern=KEY_PATTERN.pattern,
    description=(
        "Optional, recommended: 1 to 64 printable ASCII characters, **new for every operation** (a fresh UUID, "
        "never a fixed value). Retrying with the same key and the same body answers the first response again "
        f"with `{REPLAY_HEADER}: true`, and nothing moves twice; the same key with a different body is 422 "
        "`idempotency_key_reused`; sent again while the first request still runs, it waits for the first and "
        "answers as above (409 `idempotency_key_in_use` only if the first's record cannot be read back). "
        "The body's `idempotency_key` does the same (if both are sent they must be equal)."
    ),
)
REPLAYED = OpenApiParameter(
    REPLAY_HEADER, str, OpenApiParameter.HEADER, response=[200, 201, 202], enum=["true"],
    description="`true` when this is the stored answer to an earlier request with the same idempotency key: "
                "nothing moved this time.",
)
IDEMPOTENT = [IDEMPOTENCY_KEY, REPLAYED]

# The demo bank's accounts (seed_demo): Alice's JOD and USD, Bob's JOD. Execute in Swagger UI works on them.
ALICE_JOD, ALICE_USD, BOB_JOD = demo.ALICE_JOD, demo.ALICE_USD, demo.BOB_JOD
ACCOUNT_NUMBER = OpenApiParameter(
    "account_number", str, OpenApiParameter.PATH, pattern=r"^\d{12}$",
    description=f"12 digits, the last a check digit (Luhn), e.g. `{ALICE_JOD}`.",
    # Swagger UI fills the box with it: Execute works on the demo bank as it is.
    examples=[OpenApiExample("Alice's JOD account (demo bank)", value=ALICE_JOD)],
)
TRANSACTION_ID = "0b6c8f5e-3d1a-4f7e-9c2b-5a8d7e6f1c34"
APPROVAL_ID = "5f0e2d1c-7b8a-4c3d-9e6f-1a2b3c4d5e6f"
CREATED_AT = "2026-03-14T09:30:12.345678Z"


def request_example(name: str, value: dict, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, request_only=True)


def response_example(name: str, value: dict, status: int = 201, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, response_only=True, status_codes=[status])


def transaction_example(**fields) -> dict:
    return {
        "id": TRANSACTION_ID, "kind": "internal", "status": "SUCCESS", "sender_account": ALICE_JOD,
        "receiver_account": ALICE_USD, "amount": "100.000", "currency": "JOD", "fee_amount": "0.000",
        "credited_amount": "141.00", "credited_currency": "USD", "fx_rate": "1.41",
        "sender_balance_after": "4900.000", "receiver_balance_after": "3141.00", "description": "Savings to USD",
        "idempotency_key": "7d1f0c3e-2b4a-4e59-8f61-0c9d2e3b4a5f", "reverses": None, "created_at": CREATED_AT,
        **fields,
    }


def approval_example(**fields) -> dict:
    return {
        "approval_id": APPROVAL_ID, "status": "pending", "action": "deposit", "amount": "25000.000",
        "currency": "JOD", "account_number": ALICE_JOD, "transaction_id": None, "description": "Cash at branch 12",
        "requested_by": "teller@nexus.local", "created_at": CREATED_AT, "decided_by": None, "decided_at": None,
        "decision_reason": "", "result_transaction_id": None, **fields,
    }
