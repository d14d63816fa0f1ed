"""Money: accounts, cards, statements, transfers, FX, bills, and the staff's accounts, approvals and audit trail."""


from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nexus.fieldnames import KeywordFields

from .. import money
from ..models import (
    Account,
    Approval,
    AuditRecord,
    Biller,
    BillPayment,
    Card,
    Transaction,
)
from ..selectors import sees_all_transactions
from .fields import (
    DATETIME,
    OTP_FIELD,
    AccountNumberField,
    AmountField,
    IdempotencyKeyMixin,
    JSONTypes,
    MoneyInputField,
)

# --- accounts and cards --------------------------------------------------------------------

class AccountSerializer(serializers.ModelSerializer):
    balance = AmountField()
    daily_limit = AmountField()

    class Meta:
        model = Account
        fields = ["account_number", "type", "currency", "balance", "is_active", "daily_limit", "created_at"]
        read_only_fields = fields

    def to_representation(self, account):
        # Written out (see "Responses" above): the hottest read of the API.
        return {
            "account_number": account.account_number, "type": account.type, "currency": account.currency,
            "balance": money.fmt(account.balance, account.currency), "is_active": account.is_active,
            "daily_limit": money.fmt(account.daily_limit, account.currency),
            "created_at": DATETIME.to_representation(account.created_at),
        }


class AccountCreateSerializer(JSONTypes, serializers.Serializer):
    type = serializers.ChoiceField(choices=Account.Type.choices)


class DepositSerializer(IdempotencyKeyMixin):
    amount = MoneyInputField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class CardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Card
        fields = ["id", "card_type", "masked_number", "last4", "expiration_date", "is_active"]
        read_only_fields = ["id", "card_type", "masked_number", "last4", "expiration_date"]


class CardCreateSerializer(JSONTypes, serializers.Serializer):
    card_type = serializers.ChoiceField(choices=Card.Type.choices)


class CardIssuedSerializer(serializers.ModelSerializer):
    card_number = serializers.CharField()
    cvv = serializers.CharField()

    class Meta:
        model = Card
        fields = ["id", "card_type", "card_number", "cvv", "last4", "expiration_date", "is_active"]


class CardUpdateSerializer(JSONTypes, serializers.Serializer):
    is_active = serializers.BooleanField()


class StatementLineSerializer(serializers.Serializer):
    """One movement of the account, as its ledger records it, and the balance after it."""

    transaction_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    direction = serializers.ChoiceField(choices=[("debit", "debit"), ("credit", "credit")])
    amount = AmountField()
    currency = serializers.CharField()
    balance_after = AmountField()
    counterparty_account = serializers.CharField(
        allow_null=True, help_text="The other account of the movement; null for a cash deposit (the bank's vault).")
    description = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, line):
        # Written out (see "Responses" above): a statement page is the second-hottest read.
        return {
            "transaction_id": str(line["transaction_id"]), "kind": line["kind"], "direction": line["direction"],
            "amount": money.fmt(line["amount"], line["currency"]), "currency": line["currency"],
            "balance_after": money.fmt(line["balance_after"], line["currency"]),
            "counterparty_account": line["counterparty_account"], "description": line["description"],
            "created_at": DATETIME.to_representation(line["created_at"]),
        }


# --- transfers -----------------------------------------------------------------------------

class TransferCreateSerializer(IdempotencyKeyMixin):
    sender_account = AccountNumberField()
    receiver_account = AccountNumberField()
    amount = MoneyInputField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class ReverseSerializer(IdempotencyKeyMixin):
    reason = serializers.CharField(max_length=255)


class TransactionSerializer(serializers.ModelSerializer):
    """A transaction as its viewer may see it: never the balance of an account that is not theirs."""

    sender_account = serializers.CharField(source="sender_account_id")
    receiver_account = serializers.CharField(source="receiver_account_id")
    amount = AmountField()
    fee_amount = AmountField()
    credited_amount = AmountField(currency="credited_currency")
    fx_rate = serializers.SerializerMethodField()
    idempotency_key = serializers.SerializerMethodField()
    sender_balance_after = serializers.SerializerMethodField()
    receiver_balance_after = serializers.SerializerMethodField()
    reverses = serializers.UUIDField(source="reverses_id", allow_null=True)

    class Meta:
        model = Transaction
        fields = [
            "id", "kind", "status", "sender_account", "receiver_account", "amount", "currency", "fee_amount",
            "credited_amount", "credited_currency", "fx_rate", "sender_balance_after", "receiver_balance_after",
            "description", "idempotency_key", "reverses", "created_at",
        ]
        read_only_fields = fields

    def _owns(self, account_field: str, txn: Transaction) -> bool:
        user = self.context["request"].user
        if sees_all_transactions(user):
            return True
        return getattr(txn, account_field).owner_id == user.pk

    @extend_schema_field({"type": "string", "nullable": True, "maxLength": 64})
    def get_idempotency_key(self, txn):
        # The key is the sender's own handle on the request; nobody else (receiver or staff) sees it.
        return txn.idempotency_key if txn.initiated_by_id == self.context["request"].user.pk else None

    @extend_schema_field({"type": "string", "nullable": True, "example": "1.410000"})
    def get_fx_rate(self, txn):
        return None if txn.fx_rate is None else format(txn.fx_rate.normalize(), "f")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_sender_balance_after(self, txn):
        if txn.sender_balance_after is None or not self._owns("sender_account", txn):
            return None
        return money.fmt(txn.sender_balance_after, txn.currency)

    # Absent from external transfers the viewer does not receive (see to_representation).
    @extend_schema_field({"type": "string", "nullable": True, "x-nexus-optional": True})
    def get_receiver_balance_after(self, txn):
        if txn.receiver_balance_after is None or not self._owns("receiver_account", txn):
            return None
        return money.fmt(txn.receiver_balance_after, txn.credited_currency)

    def to_representation(self, txn):
        # Written out (see "Responses" above): every transfer answers one.
        data = {
            "id": str(txn.id), "kind": txn.kind, "status": txn.status,
            "sender_account": txn.sender_account_id, "receiver_account": txn.receiver_account_id,
            "amount": money.fmt(txn.amount, txn.currency), "currency": txn.currency,
            "fee_amount": money.fmt(txn.fee_amount, txn.currency),
            "credited_amount": money.fmt(txn.credited_amount, txn.credited_currency),
            "credited_currency": txn.credited_currency, "fx_rate": self.get_fx_rate(txn),
            "sender_balance_after": self.get_sender_balance_after(txn),
            "receiver_balance_after": self.get_receiver_balance_after(txn),
            "description": txn.description, "idempotency_key": self.get_idempotency_key(txn),
            "reverses": None if txn.reverses_id is None else str(txn.reverses_id),
            "created_at": DATETIME.to_representation(txn.created_at),
        }
        # The receiver's balance is shown only to whoever owns it (internal transfers, incoming ones).
        if data["receiver_balance_after"] is None and txn.kind != Transaction.Kind.INTERNAL:
            data.pop("receiver_balance_after")
        return data


# --- FX and bills --------------------------------------------------------------------------

class FxRatesSerializer(serializers.Serializer):
    base = serializers.CharField()
    rates = serializers.DictField(child=serializers.CharField())
    as_of = serializers.DateTimeField(allow_null=True)


class FxQuoteQuerySerializer(KeywordFields, serializers.Serializer):
    from_ = serializers.ChoiceField(choices=money.CURRENCIES)
    to = serializers.ChoiceField(choices=money.CURRENCIES)
    amount = MoneyInputField()

    def validate(self, attrs):
        if not money.fits_currency(attrs["amount"], attrs["from"]):
            raise serializers.ValidationError({"amount": [f"Too many decimal places for {attrs['from']}."]})
        return attrs


class FxQuoteSerializer(KeywordFields, serializers.Serializer):
    from_ = serializers.CharField()
    to = serializers.CharField()
    amount = serializers.CharField()
    converted_amount = serializers.CharField()
    rate = serializers.CharField(allow_null=True)


class BillerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Biller
        fields = ["id", "name", "category", "currency"]


class BillCreateSerializer(IdempotencyKeyMixin):
    account = AccountNumberField()
    biller = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    amount = MoneyInputField()
    reference = serializers.CharField(max_length=64)


class BillPaymentSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account_id")
    biller = serializers.IntegerField(source="biller_id")
    amount = AmountField()
    debited_amount = AmountField(currency="debited_currency")
    balance_after = serializers.SerializerMethodField()

    class Meta:
        model = BillPayment
        fields = ["id", "account", "biller", "amount", "currency", "debited_amount", "reference", "status",
                  "balance_after", "created_at"]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_balance_after(self, bill):
        return money.fmt(bill.transaction.sender_balance_after, bill.transaction.currency)


# --- staff: accounts, dual control, audit trail ----------------------------------------------

class AccountUpdateSerializer(JSONTypes, serializers.Serializer):
    is_active = serializers.BooleanField(required=False)
    daily_limit = MoneyInputField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send is_active, daily_limit or both."]})
        return attrs


class ApprovalSerializer(serializers.ModelSerializer):
    """A dual-control request as staff see it; ``approval_id`` is its id."""

    approval_id = serializers.UUIDField(source="id")
    amount = AmountField()
    account_number = serializers.CharField(source="account_id", allow_null=True,
                                           help_text="The account of a deposit.")
    transaction_id = serializers.UUIDField(source="target_transaction_id", allow_null=True,
                                           help_text="The transaction a reversal would reverse.")
    requested_by = serializers.EmailField(source="requested_by.email")
    decided_by = serializers.EmailField(source="decided_by.email", allow_null=True, default=None)
    description = serializers.CharField(help_text="The deposit's description or the reversal's reason.")
    result_transaction_id = serializers.UUIDField(source="result_id", allow_null=True,
                                                  help_text="The transaction the approval made.")

    class Meta:
        model = Approval
        fields = ["approval_id", "status", "action", "amount", "currency", "account_number", "transaction_id",
                  "description", "requested_by", "created_at", "decided_by", "decided_at", "decision_reason",
                  "result_transaction_id"]
        read_only_fields = fields


class ApprovalRejectSerializer(JSONTypes, serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class AuditRecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_email")
    changes = serializers.DictField(child=serializers.ListField(min_length=2, max_length=2, allow_null=True),
                                    help_text="{field: [before, after]}")

    class Meta:
        model = AuditRecord
        fields = ["id", "actor", "action", "object_type", "object_id", "changes", "ip", "request_id", "timestamp"]
        read_only_fields = fields



class ExternalTransferCreateSerializer(TransferCreateSerializer):
    otp = serializers.CharField(required=False, write_only=True, **{
        **OTP_FIELD, "help_text": "Step-up: a current 6-digit TOTP code, required when the amount is worth at least "
                                 "STEP_UP_THRESHOLD (500 JOD by default) at current rates."})


class BillStepUpCreateSerializer(BillCreateSerializer):
    otp = serializers.CharField(required=False, write_only=True, **{
        **OTP_FIELD, "help_text": "Step-up: a current 6-digit TOTP code, required when the amount is worth at least "
                                 "STEP_UP_THRESHOLD (500 JOD by default) at current rates."})
