from drf_spectacular.utils import extend_schema
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
from .common import ERRORS


class TransferView(ListModelMixin, GenericAPIView):
    """List the caller's transfers of one kind, or make one."""

    kind: str = ""
    serializer_class = serializers.TransactionSerializer
    service = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Transaction.objects.none()
        return selectors.transfers_of(self.request.user, self.kind)

    def get(self, request):
        return self.list(request)

    @extend_schema(request=serializers.TransferCreateSerializer, responses={201: serializers.TransactionSerializer, **ERRORS})
    def post(self, request):
        service = type(self).service

        def perform(data, key):
            txn = service(user=request.user, sender_number=data["sender_account"],
                          receiver_number=data["receiver_account"], amount=data["amount"],
                          description=data["description"], idempotency_key=key)
            return 201, serializers.TransactionSerializer(txn, context={"request": request}).data

        return money_post(request, serializers.TransferCreateSerializer, scope=f"transfer:{self.kind}",
                          kind=self.kind, perform=perform, account=lambda data: data["sender_account"])


class InternalTransferView(TransferView):
    kind = Transaction.Kind.INTERNAL
    service = staticmethod(transfers.transfer_internal)


class ExternalTransferView(TransferView):
    kind = Transaction.Kind.EXTERNAL
    service = staticmethod(transfers.transfer_external)


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
