from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.permissions import StaffPermission

from .. import exceptions, selectors, serializers
from ..idempotency import money_post
from ..models import Transaction
from ..services import approvals, transfers
from .approvals import PENDING, money_or_approval
from .common import ERRORS, ErrorSerializer
from .stepup import transfer_guard


class TransferView(ListModelMixin, GenericAPIView):
    """List the caller's transfers of one kind, or make one."""

    kind: str = ""
    serializer_class = serializers.TransactionSerializer
    service = None
    body_class = serializers.TransferCreateSerializer
    guard = None  # step-up (external transfers): api.views.stepup

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Transaction.objects.none()
        return selectors.transfers_of(self.request.user, self.kind)

    def get(self, request):
        return self.list(request)

    @extend_schema(request=serializers.TransferCreateSerializer, responses={201: serializers.TransactionSerializer, **ERRORS})
    def post(self, request):
        return self.transfer(request)

    def transfer(self, request):
        service = type(self).service
        guard = type(self).guard

        def perform(data, key):
            txn = service(user=request.user, sender_number=data["sender_account"],
                          receiver_number=data["receiver_account"], amount=data["amount"],
                          description=data["description"], idempotency_key=key)
            return 201, serializers.TransactionSerializer(txn, context={"request": request}).data

        return money_post(request, self.body_class, scope=f"transfer:{self.kind}",
                          kind=self.kind, perform=perform, account=lambda data: data["sender_account"],
                          guard=guard(request) if guard else None)


class InternalTransferView(TransferView):
    kind = Transaction.Kind.INTERNAL
    service = staticmethod(transfers.transfer_internal)


class ExternalTransferView(TransferView):
    kind = Transaction.Kind.EXTERNAL
    service = staticmethod(transfers.transfer_external)
    body_class = serializers.ExternalTransferCreateSerializer
    guard = staticmethod(transfer_guard)

    @extend_schema(
        request=serializers.ExternalTransferCreateSerializer,
        description="To any other active Nexus account; the sender pays the fee. **Step-up (v1.2)**: an amount "
                    "worth at least `STEP_UP_THRESHOLD` (500 JOD) at current rates needs `otp`, a current TOTP "
                    "code: missing → 403 `otp_required` (the details say to enrol when the user has no 2FA), wrong "
                    "or reused → 403 `otp_invalid` (a failed login for the lockout); nothing moves either way. "
                    "Order: 400 (input), then 403 (step-up), then 422 (business rules). An idempotent replay of an "
                    "applied request is answered without a code.",
        responses={201: serializers.TransactionSerializer, **ERRORS,
                   403: OpenApiResponse(ErrorSerializer, description="Step-up code missing or wrong (`otp_required`, "
                                                                     "`otp_invalid`); blacklisted IP (`ip_blocked`)")},
    )
    def post(self, request):
        return self.transfer(request)


class TransactionDetailView(APIView):
    @extend_schema(responses={200: serializers.TransactionSerializer, **ERRORS})
    def get(self, request, transaction_id):
        txn = selectors.transactions_visible_to(request.user).filter(pk=transaction_id).first()
        if txn is None:
            raise exceptions.NotFound("Transaction not found.")
        return Response(serializers.TransactionSerializer(txn, context={"request": request}).data)


class ReverseView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": ["api.request_reversal"]}

    @extend_schema(request=serializers.ReverseSerializer,
                   responses={201: serializers.TransactionSerializer, **PENDING, **ERRORS})
    def post(self, request, transaction_id):
        def perform(data, key):
            return money_or_approval(approvals.staff_reversal(
                staff=request.user, transaction_id=transaction_id, reason=data["reason"], idempotency_key=key),
                request)

        return money_post(request, serializers.ReverseSerializer, scope=f"reverse:{transaction_id}",
                          kind=Transaction.Kind.REVERSAL, perform=perform)
