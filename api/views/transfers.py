from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from api.roles import Power
from nexus.pagination import CursorPagination
from nexus.permissions import StaffPermission

from .. import exceptions, selectors, serializers
from ..models import Transaction
from ..services import commands
from . import money
from .approvals import PENDING
from .common import (
    ALICE_JOD,
    ALICE_USD,
    BOB_JOD,
    IDEMPOTENT,
    KEY_ERRORS,
    NOT_FOUND,
    PRECISION,
    TRANSACTION_ID,
    approval_example,
    errors,
    request_example,
    response_example,
    transaction_example,
)
from .stepup import STEP_UP_ERRORS, STEP_UP_RULES

# What every transfer may be refused for, after its input is valid.
TRANSFER_REFUSALS = (
    (exceptions.SameAccount, "`sender_account` and `receiver_account` are the same."),
    (exceptions.InsufficientFunds, "the sender's balance does not cover the amount (and the fee)."),
    (exceptions.DailyLimitExceeded, "the sender's outgoing total since midnight (Asia/Amman) would pass its "
                                    "`daily_limit`."),
    (exceptions.AccountInactive, "one of the two accounts is frozen."),
    (exceptions.AmountTooSmall, "converted to the receiver's currency, the amount would credit nothing."),
    exceptions.BalanceLimit, *KEY_ERRORS,
)
TRANSFER_RULES = (
    "`amount` is in the sender's currency, with at most its decimals; the receiver is credited "
    "`credited_amount` in its own currency, converted at the bank's rate and rounded **down** "
    "(`fx_rate` says which rate). The sender's outgoing total since midnight Asia/Amman may not pass "
    "its `daily_limit`. Send an `Idempotency-Key` so that a retry after a timeout cannot pay twice."
)


# The receiver's balance is not the sender's to see: the field is absent.
EXTERNAL_EXAMPLE = transaction_example(
    kind="external", receiver_account=BOB_JOD, amount="25.500", fee_amount="0.255", credited_amount="25.500",
    credited_currency="JOD", fx_rate=None, sender_balance_after="4974.245", description="Rent share, March")
del EXTERNAL_EXAMPLE["receiver_balance_after"]


class TransferView(ListModelMixin, GenericAPIView):
    kind: str = ""
    pagination_class = CursorPagination
    serializer_class = serializers.TransactionSerializer
    command = commands.InternalTransfer
    body_class = serializers.TransferCreateSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Transaction.objects.none()
        return selectors.transfers_of(self.request.user, self.kind)

    def get(self, request):
        return self.list(request)

    @extend_schema(request=serializers.TransferCreateSerializer, parameters=IDEMPOTENT)
    def post(self, request):
        return money.post(request, self.body_class, self.command, scope=f"transfer:{self.kind}")


@extend_schema_view(
    get=extend_schema(
        summary="My internal transfers",
        description="Transfers between two of the caller's own accounts, newest first.",
    ),
    post=extend_schema(
        summary="Transfer between my own accounts",
        description="Both accounts must be the caller's (otherwise 404, as if they did not exist; a receiver that is "
                    "not the caller's is told that paying another customer is `POST /transfers/external/`). No fee. "
                    + TRANSFER_RULES,
        responses={201: serializers.TransactionSerializer, **errors(
            (exceptions.NotFound, "the sender or the receiver is not one of the caller's accounts (an unknown number "
                                  "alike); paying another customer is `POST /transfers/external/`."),
            PRECISION, *TRANSFER_REFUSALS)},
        examples=[
            request_example("JOD savings to my USD account", {
                "sender_account": ALICE_JOD, "receiver_account": ALICE_USD, "amount": "100.000",
                "description": "Savings to USD"}),
            response_example("Transferred", transaction_example()),
        ],
    ),
)
class InternalTransferView(TransferView):
    kind = Transaction.Kind.INTERNAL


@extend_schema_view(
    get=extend_schema(
        summary="My external transfers",
        description="External transfers the caller sent or received, newest first. The other side's balance is "
                    "never shown, and `idempotency_key` only to the one who sent it.",
    ),
    post=extend_schema(
        summary="Transfer to another customer",
        description="From one of the caller's accounts to any other active Nexus account. A fee "
                    "(`EXTERNAL_TRANSFER_FEE_RATE`, 1 % by default, rounded **up** to the sender currency's minor "
                    "unit) is charged on top of `amount`: `sender_balance_after = before - amount - fee_amount`. "
                    "An unknown or frozen receiver is 422 `receiver_not_found`, the same for both. " + TRANSFER_RULES
                    + STEP_UP_RULES,
        request=serializers.ExternalTransferCreateSerializer,
        responses={201: serializers.TransactionSerializer, **errors(*STEP_UP_ERRORS,
            (exceptions.NotFound, "the sender account is not the caller's."), PRECISION,
            (exceptions.ReceiverNotFound, "no active customer account has this number (unknown and frozen alike)."),
            *TRANSFER_REFUSALS)},
        examples=[
            request_example("To another customer", {
                "sender_account": ALICE_JOD, "receiver_account": BOB_JOD, "amount": "25.500",
                "description": "Rent share, March"}),
            response_example("Transferred", EXTERNAL_EXAMPLE),
        ],
    ),
)
class ExternalTransferView(TransferView):
    kind = Transaction.Kind.EXTERNAL
    command = commands.ExternalTransfer
    body_class = serializers.ExternalTransferCreateSerializer


class TransactionDetailView(APIView):
    @extend_schema(
        summary="One transfer",
        description="Any transaction in which the caller owns the sender or the receiver account (staff with "
                    "`api.view_transaction` see all). Others' transactions are 404.",
        responses={200: serializers.TransactionSerializer, **errors(NOT_FOUND)},
    )
    def get(self, request, transaction_id):
        txn = selectors.transactions_visible_to(request.user).filter(pk=transaction_id).first()
        if txn is None:
            raise exceptions.NotFound("Transaction not found.")
        return Response(serializers.TransactionSerializer(txn, context={"request": request}).data)


class ReverseView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": [Power.REVERSE]}

    @extend_schema(
        summary="Reverse a transaction",
        description="Posts the exact mirror of the transaction's ledger lines (fee and conversion included): "
                    "201 and the compensating `reversal` transaction; the original becomes `REVERSED`. "
                    "Dual control: staff who cannot approve (a Teller) only request it: 202 and a pending "
                    "approval request, which someone else approves at `POST /approvals/{approval_id}/approve/`. "
                    "Written to the audit trail.",
        request=serializers.ReverseSerializer,
        parameters=IDEMPOTENT,
        responses={201: serializers.TransactionSerializer, **PENDING, **errors(
            NOT_FOUND, *KEY_ERRORS, exceptions.AlreadyReversed,
            (exceptions.NotReversible, "a reversal, or a transaction that did not succeed, cannot be reversed."),
            (exceptions.InsufficientFunds, "the receiver has already spent the money."), exceptions.BalanceLimit)},
        examples=[
            request_example("Reverse", {"reason": "Customer sent it to the wrong account"}),
            response_example("Reversed", transaction_example(
                id="8e3d2c1b-0a9f-4e8d-b7c6-5d4e3f2a1b0c", kind="reversal", sender_account=ALICE_USD,
                receiver_account=ALICE_JOD, amount="141.00", currency="USD", fee_amount="0.00", credited_amount="100.000",
                credited_currency="JOD", fx_rate="0.70922", sender_balance_after="3000.00",
                receiver_balance_after="5000.000", description="Customer sent it to the wrong account",
                idempotency_key=None, reverses=TRANSACTION_ID)),
            response_example("Held for approval", approval_example(
                action="reversal", amount="100.000", account_number=None, transaction_id=TRANSACTION_ID,
                description="Customer sent it to the wrong account"), status=202),
        ],
    )
    def post(self, request, transaction_id):
        return money.post(request, serializers.ReverseSerializer, commands.Reverse, scope=f"reverse:{transaction_id}",
                          transaction_id=transaction_id)
