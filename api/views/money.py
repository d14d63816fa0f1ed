"""The HTTP side of a money request: read the body, call :func:`api.services.money_request.run` once,
render its outcome after the commit.

The view validates the body (400), takes the idempotency key (header or body) and the second-factor code
out of it, builds the command and hands everything to the request service, which never calls back
here. The answer is rendered from the result once the transaction has committed (no lock is held while
it is rendered) and its body kept for the replays of the key.
"""

import json

from rest_framework import serializers as drf
from rest_framework.response import Response

from nexus import renderers

from .. import serializers
from ..models import Account, Approval, BillPayment, StandingOrder, Transaction
from ..serializers.standing import StandingOrderSerializer
from ..services import money_request
from ..services.commands import Command
from .common import HEADER, REPLAY_HEADER

# How each kind of result is answered.
RENDERERS = {
    Transaction: serializers.TransactionSerializer,  # shows the caller only what is theirs: needs the request
    Approval: serializers.ApprovalSerializer,
    Account: serializers.AccountSerializer,
    BillPayment: serializers.BillPaymentSerializer,
    StandingOrder: StandingOrderSerializer,
}


def request_key(request, body_key: str | None) -> str | None:
    """The request's idempotency key: the header's or the body's (both: they must agree)."""
    header_key = request.headers.get(HEADER)
    if header_key is not None and body_key is not None and header_key != body_key:
        raise drf.ValidationError({"idempotency_key": ["Header and body keys differ."]})
    key = header_key if header_key is not None else body_key
    if key is None:
        return None
    if not money_request.KEY_PATTERN.match(key):
        raise drf.ValidationError({"idempotency_key": ["1 to 64 printable ASCII characters."]})
    return key


def read_body(request, body_class) -> tuple[dict, str | None, str | None]:
    """The validated body without its idempotency key and second-factor code, the key, and the code.
    The code is not part of the request's identity: a retry with a newer code (or none) is the same
    request."""
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    key = request_key(request, data.pop("idempotency_key", None))
    return data, key, data.pop("otp", None)


def run(request, command: Command, *, scope: str, payload: dict, key: str | None,
        otp: str | None = None) -> Response:
    """Run the money request and answer it: the replayed body, or the result rendered now and kept."""
    outcome = money_request.run(user=request.user, key=key, scope=scope, payload=payload, command=command, otp=otp,
                                origin=request._request)
    headers = {REPLAY_HEADER: "true"} if outcome.replayed else None
    if outcome.body is not None:
        return Response(json.loads(outcome.body), status=outcome.status, headers=headers)
    body = RENDERERS[type(outcome.result)](outcome.result, context={"request": request}).data
    if not outcome.replayed:
        money_request.remember(user=request.user, key=key, body=renderers.dumps(body))
    return Response(body, status=outcome.status, headers=headers)


def post(request, body_class, command_class: type[Command], *, scope: str, **fields) -> Response:
    """The whole POST of a money endpoint whose body is its command's fields (plus ``fields``, from the URL)."""
    data, key, otp = read_body(request, body_class)
    return run(request, command_class(**data, **fields), scope=scope, payload=data, key=key, otp=otp)
