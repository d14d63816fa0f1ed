from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from api.roles import Power
from nexus.permissions import StaffPermission

from .. import exceptions, serializers
from ..models import Approval
from ..services import approvals, commands
from . import money
from .common import (
    IDEMPOTENT,
    KEY_ERRORS,
    NOT_FOUND,
    TRANSACTION_ID,
    approval_example,
    errors,
    request_example,
    response_example,
    transaction_example,
)

PENDING = {202: OpenApiResponse(serializers.ApprovalSerializer,
                                description="Held for a second approver (dual control); nothing moved yet. "
                                            "`approval_id` is the request to approve or reject.")}
OWN_REQUEST = (exceptions.Forbidden, "the request is your own, or about an account of yours: someone else must decide it.")
DECIDED = (exceptions.AlreadyDecided, "the request was approved or rejected already.")
DECIDED_EXAMPLE = approval_example(status="approved", decided_by="supervisor@nexus.local",
                                   decided_at="2026-03-14T09:41:07.120044Z", result_transaction_id=TRANSACTION_ID)


@extend_schema_view(get=extend_schema(
    summary="Approval requests",
    description="Dual control (four eyes): deposits above `DUAL_CONTROL_THRESHOLD` and reversals asked for by "
                "staff who cannot approve wait here until a different staff member approves or rejects them. "
                "Newest first; `?status=pending` for the ones still waiting.",
))
class ApprovalListView(generics.ListAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_APPROVALS]}
    serializer_class = serializers.ApprovalSerializer
    filterset_fields = ["status", "action"]
    queryset = Approval.objects.select_related("requested_by", "decided_by").order_by("-created_at")


@extend_schema_view(get=extend_schema(
    summary="One approval request",
    description="What was asked (`action`, `amount`, the account or the transaction), by whom, and how it was "
                "decided; `result_transaction_id` is the transaction an approval made.",
    responses={200: serializers.ApprovalSerializer, **errors(NOT_FOUND)},
    examples=[response_example("Approved", DECIDED_EXAMPLE, status=200)],
))
class ApprovalDetailView(generics.RetrieveAPIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_APPROVALS]}
    serializer_class = serializers.ApprovalSerializer
    queryset = ApprovalListView.queryset
    lookup_url_kwarg = "approval_id"


class ApprovalApproveView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": [Power.DECIDE_APPROVAL]}

    @extend_schema(
        summary="Approve a request: the money moves",
        description="Runs the held deposit, reversal or limit increase exactly as the direct call would have, and "
                    "answers what it would have answered: 201 and the transaction (200 and the account for a "
                    "`limit_change`). Nobody decides a request about their own accounts (403). The requester can never approve their "
                    "own request. If the operation is refused now (e.g. the account was frozen meanwhile), "
                    "nothing moves and the request stays pending. Two approvers at once: one moves the money, "
                    "the other gets 422 `already_decided`. No body; an `Idempotency-Key` makes a retry safe.",
        request=None,
        parameters=IDEMPOTENT,
        responses={201: serializers.TransactionSerializer, 200: OpenApiResponse(
            serializers.AccountSerializer, description="A daily-limit increase (`limit_change`): the account, as the "
                                                       "direct PATCH answers it."), **errors(
            NOT_FOUND, OWN_REQUEST, DECIDED, *KEY_ERRORS,
            (exceptions.AccountInactive, "a deposit's account was frozen since the request."),
            (exceptions.AlreadyReversed, "the transaction was reversed since the request."),
            (exceptions.InsufficientFunds, "a reversal's receiver has spent the money since the request."),
            exceptions.BalanceLimit)},
        examples=[response_example("Deposited", transaction_example(
            kind="deposit", sender_account="900000000019", receiver_account=approval_example()["account_number"],
            amount="25000.000", credited_amount="25000.000", credited_currency="JOD", fx_rate=None,
            sender_balance_after=None, receiver_balance_after="30000.000", description="Cash at branch 12",
            idempotency_key=None))],
    )
    def post(self, request, approval_id):
        return money.run(request, commands.Approve(approval_id), scope=f"approve:{approval_id}", payload={},
                         key=money.request_key(request, None))


class ApprovalRejectView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": [Power.DECIDE_APPROVAL]}

    @extend_schema(
        summary="Reject a request",
        description="Nothing moves; the reason is kept on the request and in the audit trail. Not one's own.",
        request=serializers.ApprovalRejectSerializer,
        responses={200: serializers.ApprovalSerializer, **errors(NOT_FOUND, OWN_REQUEST, DECIDED)},
        examples=[request_example("Reject", {"reason": "No cash receipt attached"}),
                  response_example("Rejected", approval_example(
                      status="rejected", decided_by="supervisor@nexus.local", decided_at="2026-03-14T09:41:07.120044Z",
                      decision_reason="No cash receipt attached"), status=200)],
    )
    def post(self, request, approval_id):
        body = serializers.ApprovalRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = approvals.approval_reject(approver=request.user, approval_id=approval_id,
                                             reason=body.validated_data["reason"])
        return Response(serializers.ApprovalSerializer(approval).data)
