import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import renderers, status
from rest_framework import serializers as drf_serializers
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from api.roles import Power
from nexus.fieldnames import KeywordFields
from nexus.pagination import CursorPagination
from nexus.permissions import StaffPermission
from nexus.renderers import JSONRenderer

from .. import exceptions, selectors, serializers
from ..models import Account, Approval, LedgerEntry
from ..serializers.fields import DateField
from ..services import commands
from ..services.accounts import account_open, account_update, card_issue, card_set_active
from . import money
from .approvals import PENDING
from .common import (
    ACCOUNT_NUMBER,
    ALICE_JOD,
    ALICE_USD,
    CREATED_AT,
    IDEMPOTENT,
    KEY_ERRORS,
    NOT_FOUND,
    PRECISION,
    approval_example,
    errors,
    request_example,
    response_example,
    transaction_example,
)

ACCOUNT_EXAMPLE = {"account_number": ALICE_USD, "type": "USD", "currency": "USD", "balance": "0.00", "is_active": True,
                   "daily_limit": "10000.00", "created_at": CREATED_AT}


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    FIELDS = list(serializers.StatementLineSerializer().fields)  # the JSON's fields, in its order

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in data:
            # Neutralise spreadsheet formulas in free text (CSV injection).
            description = row["description"]
            if description and description[0] in "=+-@\t\r":
                row = dict(row, description="'" + description)
            writer.writerow(row)
        return buffer.getvalue().encode("utf-8")


def own_account_or_404(user, number):
    account = selectors.account_of(user, number)
    if account is None:
        raise exceptions.NotFound("Account not found.")
    return account


@extend_schema_view(get=extend_schema(
    summary="My accounts",
    description="The caller's accounts, newest first, with balances in their currency's minor units.",
))
class AccountListView(ListModelMixin, GenericAPIView):  # ListModelMixin: the schema of a paginated list
    serializer_class = serializers.AccountSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Account.objects.none()
        return selectors.accounts_of(self.request.user)

    def get(self, request):
        page = self.paginator.paginate_rows(
            lambda offset, limit: selectors.account_page(request.user, offset, limit), request)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Open an account",
        description="The type decides the currency: `Savings`, `Salary`, `Basic` hold JOD, `USD` USD, `EUR` EUR. "
                    "A new account's balance is zero; money comes in by a teller's deposit or a transfer. "
                    "A customer may hold at most `MAX_ACCOUNTS_PER_USER` accounts (10 by default).",
        request=serializers.AccountCreateSerializer,
        responses={201: serializers.AccountSerializer, **errors(
            (exceptions.LimitReached, "the customer already holds the most accounts allowed; `details` says how many."))},
        examples=[request_example("A USD account", {"type": "USD"}), response_example("Opened", ACCOUNT_EXAMPLE)],
    )
    def post(self, request):
        body = serializers.AccountCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = account_open(owner=request.user, type=body.validated_data["type"])
        return Response(serializers.AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(APIView):

    # The roles that change accounts at all (all of them may freeze); the service then decides by the change
    # asked for: freezing, unfreezing and the limit are separate permissions (v1.3, api.services.accounts).
    staff_permissions = {"PATCH": [Power.FREEZE_ACCOUNT]}

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [StaffPermission()]
        return super().get_permissions()

    @extend_schema(
        summary="One of my accounts",
        description="404 for an account that is not the caller's, exactly as for one that does not exist.",
        parameters=[ACCOUNT_NUMBER],
        responses={200: serializers.AccountSerializer, **errors(NOT_FOUND)},
    )
    def get(self, request, account_number):
        return Response(serializers.AccountSerializer(own_account_or_404(request.user, account_number)).data)

    @extend_schema(
        summary="Freeze, unfreeze or set a daily limit",
        description="Any customer's account, never one's own (403). A frozen account (`is_active: false`) can "
                    "neither send nor receive; to a sender it looks exactly like an unknown account. "
                    "`daily_limit` is in the account's currency. Each change is its own power: freezing "
                    "(Teller, Supervisor, Risk analyst), unfreezing (Supervisor), the daily limit (Teller, "
                    "Supervisor). Raising the limit by staff who cannot approve (a Teller) is held for a second "
                    "approver: 202 and a pending `limit_change` request (a freeze in the same request acts at "
                    "once); lowering it acts at once. Written to the audit trail.",
        request=serializers.AccountUpdateSerializer,
        parameters=[ACCOUNT_NUMBER],
        responses={200: serializers.AccountSerializer, **PENDING, **errors(
            NOT_FOUND, (exceptions.InvalidInput, "`daily_limit` has more decimals than the account's currency allows."),
            (exceptions.Forbidden, "the account is your own, or your role may not make this change."))},
        examples=[request_example("Freeze", {"is_active": False}),
                  request_example("Lower the daily limit", {"daily_limit": "2500.000"})],
    )
    def patch(self, request, account_number):
        body = serializers.AccountUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = account_update(actor=request.user, account_number=account_number, **body.validated_data)
        if isinstance(result, Approval):
            return Response(serializers.ApprovalSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        return Response(serializers.AccountSerializer(result).data)


class StatementQuerySerializer(KeywordFields, drf_serializers.Serializer):
    from_ = DateField(required=False, help_text="YYYY-MM-DD (bank-local day), 2000-2999")
    to = DateField(required=False, help_text="YYYY-MM-DD (bank-local day), 2000-2999")

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise drf_serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


class StatementView(GenericAPIView):
    pagination_class = CursorPagination

    renderer_classes = [JSONRenderer, CSVRenderer]
    serializer_class = serializers.StatementLineSerializer
    queryset = LedgerEntry.objects.none()
    CSV_MAX_ROWS = 10_000

    @extend_schema(
        summary="Statement of one of my accounts",
        description="Lines from the ledger, newest first: one per movement of the account (an external transfer "
                    "shows two debits, the amount and the fee). `from` and `to` are days in Asia/Amman, both "
                    "included. The same lines as a CSV file: `GET /accounts/{account_number}/transactions.csv` "
                    "(or `?format=csv` here).",
        parameters=[ACCOUNT_NUMBER, StatementQuerySerializer, OpenApiParameter(
            "format", str, enum=["json", "csv"], description="`csv` answers the CSV file of "
            "`GET /accounts/{account_number}/transactions.csv` instead (not paginated).")],
        responses={(200, "application/json"): serializers.StatementLineSerializer(many=True), **errors(NOT_FOUND)},
    )
    def get(self, request, account_number):
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)

        def lines(cursor, limit):
            page = selectors.statement_page(request.user, account_number, cursor=cursor, limit=limit,
                                            date_from=query.validated_data.get("from"),
                                            date_to=query.validated_data.get("to"))
            if page is None:
                raise exceptions.NotFound("Account not found.")
            return page

        if request.accepted_renderer.format == "csv":
            filename = f"statement-{account_number}.csv"
            return Response(self.get_serializer(lines(None, self.CSV_MAX_ROWS), many=True).data,
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return self.get_paginated_response(self.get_serializer(self.paginator.paginate_rows(lines, request),
                                                               many=True).data)


class StatementCsvView(StatementView):
    """The statement as a CSV file: its own operation, so a generated client reads it as text."""

    renderer_classes = [CSVRenderer]
    pagination_class = None

    @extend_schema(
        operation_id="accounts_statement_csv",
        summary="Statement of one of my accounts, as a CSV file",
        description="The lines of the statement (at most the newest 10,000 of the period, not paginated) as a "
                    "CSV download, columns " + ", ".join(f"`{name}`" for name in CSVRenderer.FIELDS) + ". A "
                    "description starting with `=`, `+`, `-` or `@` is prefixed with `'` so no spreadsheet runs "
                    "it. Errors are JSON, as everywhere.",
        parameters=[ACCOUNT_NUMBER, StatementQuerySerializer],
        responses={(200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description="The CSV file (`Content-Disposition: attachment`).",
            examples=[OpenApiExample("CSV", media_type="text/csv", response_only=True, value=(
                ",".join(CSVRenderer.FIELDS) + "\r\n3c2b1a09-8f7e-4d6c-a5b4-9e8d7c6b5a41,external,debit,"
                "250.000,JOD,4750.000,200000000014,\"Rent, March\",2026-03-14T09:30:12.345678Z\r\n"))]),
            **errors(NOT_FOUND)},
    )
    def get(self, request, account_number):
        return super().get(request, account_number)


class DepositView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": [Power.DEPOSIT]}

    @extend_schema(
        summary="Cash deposit",
        description="A teller's cash deposit into any customer's account, in that account's currency: the way "
                    "money enters the bank (from the cash vault). Answers 201 and the `deposit` transaction. "
                    "Dual control: above `DUAL_CONTROL_THRESHOLD` (10000 JOD-equivalent by default), a deposit "
                    "by staff who cannot approve (a Teller) moves nothing yet: 202 and a pending approval "
                    "request, which someone else approves at `POST /approvals/{approval_id}/approve/`. "
                    "Written to the audit trail.",
        request=serializers.DepositSerializer,
        parameters=[ACCOUNT_NUMBER, *IDEMPOTENT],
        responses={201: serializers.TransactionSerializer, **PENDING, **errors(
            NOT_FOUND, PRECISION, *KEY_ERRORS,
            (exceptions.AccountInactive, "the account is frozen."), exceptions.BalanceLimit)},
        examples=[
            request_example("Cash deposit", {"amount": "250.000", "description": "Cash at branch 12"}),
            response_example("Deposited", transaction_example(
                kind="deposit", sender_account="900000000019", receiver_account=ALICE_JOD, amount="250.000",
                credited_amount="250.000", credited_currency="JOD", fx_rate=None, sender_balance_after=None,
                receiver_balance_after="5250.000", description="Cash at branch 12")),
            response_example("Held for approval", approval_example(), status=202),
        ],
    )
    def post(self, request, account_number):
        return money.post(request, serializers.DepositSerializer, commands.Deposit, scope=f"deposit:{account_number}",
                          account_number=account_number)


@extend_schema(tags=["cards"])
class AccountCardsView(APIView):
    @extend_schema(
        summary="Cards of one of my accounts",
        description="Masked numbers only: the full number and the CVV are shown once, when the card is issued.",
        parameters=[ACCOUNT_NUMBER],
        responses={200: serializers.CardSerializer(many=True), **errors(NOT_FOUND)},
    )
    def get(self, request, account_number):
        account = own_account_or_404(request.user, account_number)
        return Response(serializers.CardSerializer(selectors.cards_of_account(account), many=True).data)

    @extend_schema(
        summary="Issue a card",
        description="Answers the full 16-digit number and the CVV, **this once** (`Cache-Control: no-store`): "
                    "the bank keeps only the last four digits and a keyed fingerprint, never the CVV. "
                    "At most `MAX_CARDS_PER_ACCOUNT` cards per account (5 by default), frozen ones included.",
        request=serializers.CardCreateSerializer,
        parameters=[ACCOUNT_NUMBER],
        responses={201: serializers.CardIssuedSerializer, **errors(
            NOT_FOUND, (exceptions.AccountInactive, "the account is frozen."),
            (exceptions.LimitReached, "the account already has the most cards allowed; `details` says how many."))},
        examples=[request_example("A debit card", {"card_type": "DEBIT"})],
    )
    def post(self, request, account_number):
        account = own_account_or_404(request.user, account_number)
        body = serializers.CardCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card, number, cvv = card_issue(account=account, card_type=body.validated_data["card_type"])
        card.card_number, card.cvv = number, cvv
        response = Response(serializers.CardIssuedSerializer(card).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class CardDetailView(APIView):
    def _card(self, request, card_id):
        card = selectors.card_of(request.user, card_id)
        if card is None:
            raise exceptions.NotFound("Card not found.")
        return card

    @extend_schema(summary="One of my cards", description="Masked: never the full number or the CVV.",
                   responses={200: serializers.CardSerializer, **errors(NOT_FOUND)})
    def get(self, request, card_id):
        return Response(serializers.CardSerializer(self._card(request, card_id)).data)

    @extend_schema(
        summary="Freeze or unfreeze a card",
        description="`is_active: false` freezes the card, `true` unfreezes it.",
        request=serializers.CardUpdateSerializer,
        responses={200: serializers.CardSerializer, **errors(NOT_FOUND)},
        examples=[request_example("Freeze", {"is_active": False})],
    )
    def patch(self, request, card_id):
        card = self._card(request, card_id)
        body = serializers.CardUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card_set_active(card=card, is_active=body.validated_data["is_active"])
        return Response(serializers.CardSerializer(card).data)
