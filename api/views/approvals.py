from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.permissions import StaffPermission

from .. import serializers
from ..idempotency import request_key, run_money_request
from ..models import Approval
from ..services import approvals
from .common import ERRORS

PENDING = {202: OpenApiResponse(serializers.ApprovalSerializer,
                                description="Held for a second approver (dual control); nothing moved yet.")}


def money_or_approval(result, request) -> tuple[int, dict]:
    """201 and the transaction when money moved; 202 and the request when it waits for approval."""
    if isinstance(result, Approval):
        return 202, serializers.ApprovalSerializer(result).data
    return 201, serializers.TransactionSerializer(result, context={"request": request}).data


class ApprovalListView(generics.ListAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": ["api.view_approval"]}
    serializer_class = serializers.ApprovalSerializer
    filterset_fields = ["status", "action"]
    queryset = Approval.objects.select_related("requested_by", "decided_by").order_by("-created_at")


class ApprovalDetailView(generics.RetrieveAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": ["api.view_approval"]}
    serializer_class = serializers.ApprovalSerializer
    queryset = ApprovalListView.queryset
    lookup_url_kwarg = "approval_id"


class ApprovalApproveView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": ["api.decide_approval"]}

    @extend_schema(request=None, responses={201: serializers.TransactionSerializer, **ERRORS})
    def post(self, request, approval_id):
        def perform(key):
            _, txn = approvals.approval_approve(approver=request.user, approval_id=approval_id)
            return 201, serializers.TransactionSerializer(txn, context={"request": request}).data

        # Idempotent like every POST that moves money; refusals here are not money refusals (kind None).
        return run_money_request(request, scope=f"approve:{approval_id}", payload={},
                                 key=request_key(request, None), operation=perform, kind=None)


class ApprovalRejectView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": ["api.decide_approval"]}

    @extend_schema(request=serializers.ApprovalRejectSerializer,
                   responses={200: serializers.ApprovalSerializer, **ERRORS})
    def post(self, request, approval_id):
        body = serializers.ApprovalRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = approvals.approval_reject(approver=request.user, approval_id=approval_id,
                                             reason=body.validated_data["reason"])
        return Response(serializers.ApprovalSerializer(approval).data)
