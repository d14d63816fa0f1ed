from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import exceptions, selectors, serializers
from ..models import Biller, BillPayment
from ..services import commands
from . import money
from .common import (
    ALICE_JOD,
    CREATED_AT,
    IDEMPOTENT,
    KEY_ERRORS,
    NOT_FOUND,
    PRECISION,
    errors,
    request_example,
    response_example,
)
from .stepup import STEP_UP_ERRORS, STEP_UP_RULES


@extend_schema_view(get=extend_schema(
    summary="Billers",
    description="The active billers a customer can pay: `id` is what `POST /bill/` takes as `biller`, and "
                "`currency` the currency its `amount` is in.",
))
@extend_schema(tags=["bills"])
class BillerListView(ListAPIView):
    serializer_class = serializers.BillerSerializer
    queryset = Biller.objects.filter(is_active=True).order_by("name")


@extend_schema_view(get=extend_schema(
    summary="My bill payments",
    description="Bill payments from the caller's accounts, newest first, each with what the biller received "
                "(`amount`) and what the account paid (`debited_amount`).",
))
@extend_schema(tags=["bills"])
class BillView(ListModelMixin, GenericAPIView):
    serializer_class = serializers.BillPaymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return BillPayment.objects.none()
        return selectors.bills_of(self.request.user)

    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Pay a bill",
        description="`amount` is what the biller receives, in the biller's currency. From an account in another "
                    "currency the debit (`debited_amount`) is its price at the bank's rate, rounded **up** to "
                    "the account currency's minor unit, so the biller always receives the whole amount. Counts "
                    "against the account's daily limit. A paid bill cannot be edited or deleted. Send an "
                    "`Idempotency-Key` so that a retry cannot pay twice." + STEP_UP_RULES,
        request=serializers.BillStepUpCreateSerializer,
        parameters=IDEMPOTENT,
        responses={201: serializers.BillPaymentSerializer, **errors(
            *STEP_UP_ERRORS, NOT_FOUND, PRECISION, (exceptions.InvalidInput, "`biller` is not an active biller."),
            (exceptions.InsufficientFunds, "the account's balance does not cover the debit."),
            (exceptions.DailyLimitExceeded, "the account's outgoing total since midnight (Asia/Amman) would pass "
                                            "its `daily_limit`."),
            (exceptions.AccountInactive, "the account is frozen."),
            (exceptions.AmountTooSmall, "the bill is worth less than one minor unit of the account's currency."),
            exceptions.BalanceLimit, *KEY_ERRORS)},
        examples=[
            request_example("Electricity bill", {"account": ALICE_JOD, "biller": 1, "amount": "42.750",
                                                 "reference": "JEPCO-00912345"}),
            response_example("Paid", {
                "id": "3c2b1a09-8f7e-4d6c-a5b4-9e8d7c6b5a41", "account": ALICE_JOD, "biller": 1, "amount": "42.750",
                "currency": "JOD", "debited_amount": "42.750", "reference": "JEPCO-00912345", "status": "PAID",
                "balance_after": "4957.250", "created_at": CREATED_AT}),
        ],
    )
    def post(self, request):
        return money.post(request, serializers.BillStepUpCreateSerializer, commands.PayBill, scope="bill")


@extend_schema(tags=["bills"])
class BillDetailView(APIView):
    @extend_schema(summary="One of my bill payments", description="Another customer's bill payment is 404.",
                   responses={200: serializers.BillPaymentSerializer, **errors(NOT_FOUND)})
    def get(self, request, bill_id):
        bill = selectors.bills_of(request.user).filter(pk=bill_id).first()
        if bill is None:
            raise exceptions.NotFound("Bill payment not found.")
        return Response(serializers.BillPaymentSerializer(bill).data)
