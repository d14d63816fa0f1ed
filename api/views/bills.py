from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import exceptions, money, selectors, serializers
from ..idempotency import money_post
from ..models import Biller, BillPayment, Transaction
from ..services.bills import bill_pay
from ..services.fx import current_rates
from .common import ERRORS, ErrorSerializer
from .stepup import bill_guard


class BillerListView(ListAPIView):
    serializer_class = serializers.BillerSerializer
    queryset = Biller.objects.filter(is_active=True).order_by("name")


class BillView(ListModelMixin, GenericAPIView):
    serializer_class = serializers.BillPaymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return BillPayment.objects.none()
        return selectors.bills_of(self.request.user)

    def get(self, request):
        return self.list(request)

    @extend_schema(
        request=serializers.BillStepUpCreateSerializer,
        description="Pay a bill; `amount` is in the biller's currency. **Step-up (v1.2)**: an amount worth at least "
                    "`STEP_UP_THRESHOLD` (500 JOD) at current rates needs `otp`, a current TOTP code: missing → 403 "
                    "`otp_required`, wrong or reused → 403 `otp_invalid`; nothing moves either way. Order: 400, "
                    "then 403, then 422. An idempotent replay of an applied request is answered without a code.",
        responses={201: serializers.BillPaymentSerializer, **ERRORS,
                   403: OpenApiResponse(ErrorSerializer, description="Step-up code missing or wrong (`otp_required`, "
                                                                     "`otp_invalid`); blacklisted IP (`ip_blocked`)")},
    )
    def post(self, request):
        def perform(data, key):
            bill = bill_pay(user=request.user, account_number=data["account"], biller_id=data["biller"],
                            amount=data["amount"], reference=data["reference"], idempotency_key=key)
            return 201, serializers.BillPaymentSerializer(bill).data

        return money_post(request, serializers.BillStepUpCreateSerializer, scope="bill", kind=Transaction.Kind.BILL,
                          perform=perform, account=lambda data: data["account"], guard=bill_guard(request))


class BillDetailView(APIView):
    @extend_schema(responses={200: serializers.BillPaymentSerializer, **ERRORS})
    def get(self, request, bill_id):
        bill = selectors.bills_of(request.user).filter(pk=bill_id).first()
        if bill is None:
            raise exceptions.NotFound("Bill payment not found.")
        return Response(serializers.BillPaymentSerializer(bill).data)


class FxRatesView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: serializers.FxRatesSerializer})
    def get(self, request):
        rates, as_of = current_rates()
        return Response({
            "base": money.BASE_CURRENCY,
            "rates": {currency: format(rate.normalize(), "f") for currency, rate in sorted(rates.items())},
            "as_of": as_of,
        })


class FxQuoteView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[serializers.FxQuoteQuerySerializer], responses={200: serializers.FxQuoteSerializer, **ERRORS})
    def get(self, request):
        query = serializers.FxQuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        source, target, amount = query.validated_data["from"], query.validated_data["to"], query.validated_data["amount"]
        rates, _ = current_rates()
        converted = money.convert(amount, source, target, rates)
        if not converted:
            raise exceptions.AmountTooSmall(details={"amount": money.fmt(amount, source), "currency": target})
        rate = money.cross_rate(source, target, rates)
        return Response({
            "from": source, "to": target, "amount": money.fmt(amount, source),
            "converted_amount": money.fmt(converted, target),
            "rate": None if rate is None else format(rate.normalize(), "f"),
        })
