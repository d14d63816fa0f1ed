"""Standing orders (contract v1.3): ``/standing-orders/``. Creating one is a money request (idempotency key,
step-up as for an external transfer); its runs are the worker's (api.services.standing)."""

import datetime as dt

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from nexus.pagination import CursorPagination

from .. import exceptions, selectors
from ..bankday import bank_day
from ..models import StandingOrder, StandingOrderRun
from ..serializers.standing import StandingOrderCreateSerializer, StandingOrderRunSerializer, StandingOrderSerializer
from ..services import commands, standing
from . import money
from .common import (
    ALICE_JOD,
    BOB_JOD,
    CREATED_AT,
    IDEMPOTENT,
    KEY_ERRORS,
    NOT_FOUND,
    PRECISION,
    errors,
    request_example,
    response_example,
)
from .stepup import STEP_UP_ERRORS

RULES = (
    "A run is a transfer from the caller, made by the bank on the day: **internal** when the receiver is one of "
    "the caller's own accounts, **external** otherwise (its fee, conversion, daily limit and screening, and the "
    "usual notifications). An order due today runs within a minute of its creation; later ones early on their "
    "bank day (Asia/Amman). Each date runs exactly once. A refused run (`insufficient_funds`, "
    "`daily_limit_exceeded`, `account_inactive`, `receiver_not_found`) is listed with its code under `runs/` and "
    "notified (`standing_order_refused`); the order stays active for its next date. A frozen or closed sender "
    "account pays nothing (its runs are refused, `account_inactive`). A worker that was down over a date runs it "
    "once when it is back, never several dates at once."
)
STEP_UP = (
    " **Step-up**: as for an external transfer of `amount`: a current `otp` is needed when the amount is worth at "
    "least `STEP_UP_THRESHOLD`, or when, together with the payments made without a code in the last 24 hours, it "
    "reaches `STEP_UP_DAILY_TOTAL` (an order made without a code counts as such a payment). The runs need none "
    "and count towards neither."
)
# A first date that stays valid for half a year of a server's life (the request's own bound is a year).
EXAMPLE_FIRST = (bank_day() + dt.timedelta(days=30)).replace(day=1).isoformat()
ORDER_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
ORDER_EXAMPLE = {
    "id": ORDER_ID, "sender_account": ALICE_JOD, "receiver_account": BOB_JOD, "amount": "250.000", "currency": "JOD",
    "description": "Rent", "interval": "monthly", "first_date": EXAMPLE_FIRST, "end_date": None,
    "next_run_on": EXAMPLE_FIRST, "status": "active", "created_at": CREATED_AT}
# One item: drf-spectacular puts a list view's example in the page envelope.
RUN_EXAMPLE = {"run_on": "2026-04-30", "status": "refused", "transaction_id": None, "error_code": "insufficient_funds",
               "created_at": "2026-04-29T21:01:03.120000Z"}


class StandingOrderListView(ListModelMixin, GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = StandingOrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return StandingOrder.objects.none()
        return selectors.standing_orders_visible_to(self.request.user)

    @extend_schema(summary="My standing orders",
                   description="The caller's standing orders, newest first (staff who may view them: everyone's).")
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Create a standing order",
        description="Pay `amount` (in the sender account's currency) from one of the caller's accounts to any "
                    "active account, every week or every month from `first_date` (a bank day from today up to "
                    "a year ahead) until `end_date` if given. A monthly order on the 29th, 30th or 31st runs on "
                    "the last day of shorter months. " + RULES + STEP_UP,
        request=StandingOrderCreateSerializer, parameters=IDEMPOTENT,
        responses={201: StandingOrderSerializer, **errors(
            *STEP_UP_ERRORS, (exceptions.NotFound, "the sender account is not the caller's."), PRECISION,
            (exceptions.SameAccount, "`sender_account` and `receiver_account` are the same."),
            (exceptions.ReceiverNotFound, "no active customer account has this number (unknown and frozen alike)."),
            (exceptions.AccountInactive, "the sender account is frozen."),
            (exceptions.AmountTooSmall, "converted to the receiver's currency, the amount would credit nothing."),
            (exceptions.LimitReached, "the caller has `MAX_STANDING_ORDERS_PER_USER` (25) active orders already."),
            *KEY_ERRORS)},
        examples=[request_example("Monthly rent", {
            "sender_account": ALICE_JOD, "receiver_account": BOB_JOD, "amount": "250.000", "description": "Rent",
            "interval": "monthly", "first_date": EXAMPLE_FIRST}),
            response_example("Created", ORDER_EXAMPLE)],
    )
    def post(self, request):
        return money.post(request, StandingOrderCreateSerializer, commands.CreateStandingOrder, scope="standing_order")


def _order(request, order_id) -> StandingOrder:
    order = selectors.standing_order_of(request.user, order_id)
    if order is None:
        raise exceptions.NotFound("Standing order not found.")
    return order


@extend_schema_view(
    get=extend_schema(summary="One standing order",
                      description="One of the caller's orders (staff who may view them: anyone's); others' are 404.",
                      responses={200: StandingOrderSerializer, **errors(NOT_FOUND)}),
    delete=extend_schema(summary="Cancel a standing order",
                         description="The order becomes `cancelled`: no later run happens, a run already made stays "
                                     "made. Cancelling an order that is no longer active changes nothing. Only "
                                     "one's own (others' are 404); staff cancel in the back office, with a reason.",
                         responses={204: OpenApiResponse(description="Cancelled."), **errors(NOT_FOUND)}),
)
class StandingOrderDetailView(GenericAPIView):
    serializer_class = StandingOrderSerializer

    def get(self, request, order_id):
        return Response(StandingOrderSerializer(_order(request, order_id)).data)

    def delete(self, request, order_id):
        standing.cancel_order(user=request.user, order_id=order_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StandingOrderRunListView(ListModelMixin, GenericAPIView):
    pagination_class = CursorPagination
    serializer_class = StandingOrderRunSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StandingOrderRun.objects.none()
        return selectors.runs_of(_order(self.request, self.kwargs["order_id"]))

    @extend_schema(summary="The runs of a standing order",
                   description="Each date the order ran, newest first: `succeeded` with the transfer it made, or "
                               "`refused` with the transfer's error code.",
                   responses={200: StandingOrderRunSerializer(many=True), **errors(NOT_FOUND)},
                   examples=[response_example("A refused run", RUN_EXAMPLE, status=200)])
    def get(self, request, order_id):
        return self.list(request)

