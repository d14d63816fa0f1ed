import csv
import io

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, status
from rest_framework import serializers as drf_serializers
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.permissions import StaffPermission

from .. import bounds, exceptions, selectors, serializers
from ..idempotency import money_post
from ..models import Account, LedgerEntry, Transaction
from ..services import approvals
from ..services.accounts import account_open, account_update, card_issue, card_set_active
from .approvals import PENDING, money_or_approval
from .common import ERRORS


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    FIELDS = ["transaction_id", "kind", "direction", "amount", "currency", "balance_after",
              "counterparty_account", "description", "created_at"]

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in data:
            # Neutralise spreadsheet formulas in free text (CSV injection).
            row = dict(row, created_at=row["created_at"].isoformat())
            description = row["description"]
            if description and description[0] in "=+-@\t\r":
                row["description"] = "'" + description
            writer.writerow(row)
        return buffer.getvalue().encode("utf-8")


def own_account_or_404(user, number):
    account = selectors.account_of(user, number)
    if account is None:
        raise exceptions.NotFound("Account not found.")
    return account


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

    @extend_schema(request=serializers.AccountCreateSerializer, responses={201: serializers.AccountSerializer, **ERRORS})
    def post(self, request):
        body = serializers.AccountCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = account_open(owner=request.user, type=body.validated_data["type"])
        return Response(serializers.AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(APIView):
    """A customer reads their own account; staff (Teller, Supervisor, Risk analyst) change any customer's."""

    staff_permissions = {"PATCH": ["api.change_account"]}

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [StaffPermission()]
        return super().get_permissions()

    @extend_schema(responses={200: serializers.AccountSerializer, **ERRORS})
    def get(self, request, account_number):
        return Response(serializers.AccountSerializer(own_account_or_404(request.user, account_number)).data)

    @extend_schema(request=serializers.AccountUpdateSerializer, responses={200: serializers.AccountSerializer, **ERRORS})
    def patch(self, request, account_number):
        body = serializers.AccountUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = account_update(actor=request.user, account_number=account_number, **body.validated_data)
        return Response(serializers.AccountSerializer(account).data)


class StatementQuerySerializer(drf_serializers.Serializer):
    to = bounds.DateField(required=False, help_text="YYYY-MM-DD (bank-local day), 2000-2999")

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise drf_serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


# "from" is a Python keyword: declare the field by name.
StatementQuerySerializer._declared_fields["from"] = bounds.DateField(required=False, help_text="YYYY-MM-DD (bank-local day), 2000-2999")


class StatementView(GenericAPIView):
    """Statement lines from the ledger, newest first. ``?format=csv`` downloads them as CSV."""

    renderer_classes = [renderers.JSONRenderer, CSVRenderer]
    serializer_class = serializers.StatementLineSerializer
    queryset = LedgerEntry.objects.none()
    CSV_MAX_ROWS = 10_000

    @extend_schema(parameters=[
        StatementQuerySerializer, OpenApiParameter("format", str, enum=["json", "csv"]),
    ], responses={200: serializers.StatementLineSerializer(many=True), **ERRORS})
    def get(self, request, account_number):
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)

        def lines(offset, limit):
            page = selectors.statement_page(request.user, account_number, offset=offset, limit=limit,
                                            date_from=query.validated_data.get("from"),
                                            date_to=query.validated_data.get("to"))
            if page is None:
                raise exceptions.NotFound("Account not found.")
            return page

        if request.accepted_renderer.format == "csv":
            filename = f"statement-{account_number}.csv"
            return Response(lines(0, self.CSV_MAX_ROWS), headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return self.get_paginated_response(self.paginator.paginate_rows(lines, request))


class DepositView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"POST": ["api.make_deposit"]}

    @extend_schema(request=serializers.DepositSerializer,
                   responses={201: serializers.TransactionSerializer, **PENDING, **ERRORS})
    def post(self, request, account_number):
        def perform(data, key):
            return money_or_approval(approvals.staff_deposit(
                staff=request.user, account_number=account_number, amount=data["amount"],
                description=data["description"], idempotency_key=key), request)

        return money_post(request, serializers.DepositSerializer, scope=f"deposit:{account_number}",
                          kind=Transaction.Kind.DEPOSIT, perform=perform, account=account_number)


class AccountCardsView(APIView):
    @extend_schema(responses={200: serializers.CardSerializer(many=True), **ERRORS})
    def get(self, request, account_number):
        account = own_account_or_404(request.user, account_number)
        return Response(serializers.CardSerializer(selectors.cards_of_account(account), many=True).data)

    @extend_schema(request=serializers.CardCreateSerializer, responses={201: serializers.CardIssuedSerializer, **ERRORS})
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

    @extend_schema(responses={200: serializers.CardSerializer, **ERRORS})
    def get(self, request, card_id):
        return Response(serializers.CardSerializer(self._card(request, card_id)).data)

    @extend_schema(request=serializers.CardUpdateSerializer, responses={200: serializers.CardSerializer, **ERRORS})
    def patch(self, request, card_id):
        card = self._card(request, card_id)
        body = serializers.CardUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card_set_active(card=card, is_active=body.validated_data["is_active"])
        return Response(serializers.CardSerializer(card).data)
