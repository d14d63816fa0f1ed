"""Idempotency keys for requests that move money.

The record is claimed with ``INSERT ... ON CONFLICT DO NOTHING`` inside the same database
transaction as the money movement. A concurrent request with the same key blocks on the
unique index until the first commits (then replays its stored response) or rolls back (then
claims the key itself). Refused requests roll back their claim, so a client may retry them.
"""

import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError
from django.db import transaction as db_transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from nexus import sql

from . import exceptions, queries
from .models import IdempotencyRecord
from .reactions import owe_refusal

KEY_PATTERN = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,63}$")
HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# deadlock_detected, serialization_failure: safe to retry the whole transaction.
RETRYABLE = {"40P01", "40001"}
ATTEMPTS = 3

def request_key(request, body_key: str | None) -> str | None:
    header_key = request.headers.get(HEADER)
    if header_key is not None and body_key is not None and header_key != body_key:
        raise serializers.ValidationError({"idempotency_key": ["Header and body keys differ."]})
    key = header_key if header_key is not None else body_key
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise serializers.ValidationError({"idempotency_key": ["1 to 64 printable ASCII characters."]})
    return key


def _canonical(value):
    # "10", "10.0" and "10.000" are the same amount: the same request.
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def fingerprint(scope: str, payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def _claim(user, key: str, digest: str) -> IdempotencyRecord | None:
    """Claim the key for this transaction; return the earlier record when it is already taken."""
    if queries.claim_key(user.pk, key, digest, timezone.now()):
        return None
    record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.fingerprint != digest:
        raise exceptions.IdempotencyKeyReused()
    if record.response_status is None:
        raise exceptions.IdempotencyKeyInUse()
    return record


def _is_retryable(exc: OperationalError) -> bool:
    return sql.sqlstate(exc) in RETRYABLE


def _replay(user, key: str, digest: str) -> Response | None:
    """The stored answer to this very request, when it was already applied."""
    record = IdempotencyRecord.objects.filter(user=user, key=key, fingerprint=digest,
                                              response_status__isnull=False).first()
    if record is None:
        return None
    return Response(json.loads(record.response_body), status=record.response_status, headers={REPLAY_HEADER: "true"})


def run_money_request(
    request, *, scope: str, payload: dict, key: str | None, operation: Callable[[str | None], tuple[int, dict]],
    kind: str | None, account: str | None = None, guard: Callable[[], None] | None = None,
) -> Response:
    """Run ``operation`` (which returns status and body) once per (user, key), atomically.

    A business-rule refusal (422) is reported as a refused money movement of ``kind``, unless
    ``kind`` is None (the request was not itself a money movement, e.g. deciding an approval).

    ``guard`` (the step-up check, given only to requests that need one) runs before the operation's
    transaction and commits on its own (a code it used stays used; a wrong code stays counted), and
    only for a request not already applied: a replay is answered without it, a new request never
    skips it. It raises to refuse.

    Deadlocks and serialization failures are retried as a whole; PostgreSQL already rolled the
    transaction back, so nothing was applied.
    """
    digest = fingerprint(scope, payload) if key else None
    if guard is not None:
        replay = _replay(request.user, key, digest) if key else None
        if replay is not None:
            return replay
        guard()
    for attempt in range(ATTEMPTS):
        try:
            with db_transaction.atomic():
                if key:
                    record = _claim(request.user, key, digest)
                    if record is not None:
                        return Response(
                            json.loads(record.response_body), status=record.response_status,
                            headers={REPLAY_HEADER: "true"},
                        )
                status, body = operation(key)
                if key:
                    queries.store_response(request.user.pk, key, status, json.dumps(body, cls=DjangoJSONEncoder))
            return Response(body, status=status)
        except OperationalError as exc:
            if attempt + 1 < ATTEMPTS and _is_retryable(exc):
                continue
            raise
        except exceptions.DomainError as exc:
            if kind and exc.status_code == 422 and not isinstance(exc, exceptions.IdempotencyKeyReused):
                # Owed like any reaction (contract v1.3): a job, committed on its own since the
                # movement rolled back; the worker sends money_refused (api.reactions).
                with db_transaction.atomic():
                    owe_refusal(user_id=request.user.pk, kind=kind, code=exc.code, account=account)
            raise
    raise AssertionError("unreachable")


def handle_money_request(request, serializer_class, *, scope: str, kind: str, perform, account=None,
                         guard=None) -> Response:
    """The whole POST of a money endpoint: validate the body, then run it once per idempotency key.

    ``perform(data, key)`` calls one service and returns (status, response body); ``account`` is the
    sender account (a number, or a function of the validated data) reported with a refusal.
    ``guard(data, otp)`` is the step-up check (see :func:`run_money_request`): it returns None when
    the request needs none, else the check to run. ``otp`` is not part of the request's identity: a
    retry with a newer code (or none) is the same request. With a guard, ``perform`` is also told
    whether a code confirmed the request (``stepped_up``): a payment made without one counts towards
    the daily total of such payments (api.services.stepup).
    """
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    key = request_key(request, data.pop("idempotency_key", None))
    otp = data.pop("otp", None)
    check = guard(data, otp) if guard is not None else None
    operation = (lambda key: perform(data, key)) if guard is None else (
        lambda key: perform(data, key, stepped_up=check is not None))
    return run_money_request(
        request, scope=scope, payload=data, key=key, operation=operation, kind=kind,
        account=account(data) if callable(account) else account, guard=check,
    )
