"""Transactions and the ledger: the statement page, the reversal page."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from .. import exceptions, selectors
from ..models import (
    Approval,
    LedgerEntry,
    Transaction,
)
from ..roles import Power, may
from ..services import approvals, commands, money_request
from ..services.conflicts import is_own
from .accounts import (
    ConfirmKeyForm,
    new_key,
)
from .display import (
    LedgerAccountFilter,
    ReadOnlyAdmin,
    TransactionAccountFilter,
    account_owner,
    account_party,
    amount,
    change_url,
    email_column,
    email_link,
    held_for_approval,
    id_column,
    id_link,
    link,
    money_text,
    reason_field,
    refusal,
    short_id,
    time_column,
    when,
)

# --- transactions and the ledger ---------------------------------------------------------------

class LedgerLineColumns:
    """A ledger line's columns, the same in the ledger's list and on a transaction's page."""

    @admin.display(description="Account")
    def account_cell(self, obj):
        return account_party(obj.account)

    @admin.display(description="Owner", ordering="account__owner__email")
    def owner(self, obj):
        return account_owner(obj.account)

    @admin.display(description="Amount (signed)", ordering="amount")
    def amount_cell(self, obj):
        return amount(obj.amount, obj.currency)

    @admin.display(description="Balance after")
    def balance_after_cell(self, obj):
        return amount(obj.balance_after, obj.currency)


class LedgerInline(LedgerLineColumns, admin.TabularInline):
    model = LedgerEntry
    verbose_name = "ledger line"
    verbose_name_plural = "ledger lines (each currency sums to zero)"
    fields = ["account_cell", "owner", "amount_cell", "purpose", "balance_after_cell"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__owner").order_by("id")

    def has_add_permission(self, request, obj=None):
        return False


def approver(approval) -> str | None:
    """``supervisor@… on 2026-03-14 09:30 (request 5f0e2d1c)``: who approved the request that made a transaction."""
    if approval is None or approval.decided_by_id is None:
        return None
    return format_html("{} on {} (request {})", email_link(approval.decided_by), when(approval.decided_at),
                       link(approval, short_id(approval.pk)))


class ReverseForm(forms.Form):
    reason = reason_field("Why the money goes back; kept as the reversal's description.")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["short", "created", "kind", "status", "from_account", "to_account", "amount_cell", "fee_cell",
                    "customer"]
    list_filter = ["kind", "status", "currency", TransactionAccountFilter, "created_at"]
    search_fields = ["id", "sender_account__account_number", "receiver_account__account_number",
                     "sender_account__owner__email", "receiver_account__owner__email", "idempotency_key",
                     "sender_account__owner__last_name", "receiver_account__owner__last_name",
                     "sender_account__owner__first_name", "receiver_account__owner__first_name"]
    search_help_text = "Customer email or name, account number or transaction id (part of any is enough)."
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["id", "created", "kind", "status", "description", "initiated_by_email", "approved_by"]}),
        ("Money", {"fields": ["amount_cell", "fee_cell", "credited_cell", "fx_rate_cell"]}),
        ("Accounts", {"fields": ["from_detail", "sender_balance_after_cell", "to_detail",
                                 "receiver_balance_after_cell"]}),
        ("Reversal", {"fields": ["reversal_link"]}),
    ]
    readonly_fields = ["id", "created", "kind", "status", "description", "initiated_by_email", "approved_by", "amount_cell",
                       "fee_cell", "credited_cell", "fx_rate_cell", "from_detail", "sender_balance_after_cell",
                       "to_detail", "receiver_balance_after_cell", "reversal_link"]
    inlines = [LedgerInline]

    def get_queryset(self, request):
        # The list and the page in one join; the admin skips list_select_related once one is set here.
        return super().get_queryset(request).select_related(
            "sender_account__owner", "receiver_account__owner", "initiated_by", "reverses", "reversal",
            "approval__decided_by")

    short = id_column()
    created = time_column("created_at")

    @admin.display(description="From")
    def from_account(self, obj):
        return account_party(obj.sender_account)

    @admin.display(description="To")
    def to_account(self, obj):
        return account_party(obj.receiver_account)

    @admin.display(description="From")
    def from_detail(self, obj):
        return format_html("{} · {}", link(obj.sender_account), account_owner(obj.sender_account))

    @admin.display(description="To")
    def to_detail(self, obj):
        return format_html("{} · {}", link(obj.receiver_account), account_owner(obj.receiver_account))

    @admin.display(description="Amount", ordering="amount")
    def amount_cell(self, obj):
        return amount(obj.amount, obj.currency)

    @admin.display(description="Fee")
    def fee_cell(self, obj):
        return amount(obj.fee_amount, obj.currency) if obj.fee_amount else "—"

    @admin.display(description="Credited")
    def credited_cell(self, obj):
        return amount(obj.credited_amount, obj.credited_currency)

    @admin.display(description="FX rate")
    def fx_rate_cell(self, obj):
        if obj.fx_rate is None:
            return "—"
        return f"1 {obj.currency} = {obj.fx_rate.normalize():f} {obj.credited_currency}"

    @admin.display(description="Sender balance after")
    def sender_balance_after_cell(self, obj):
        return amount(obj.sender_balance_after, obj.currency)

    @admin.display(description="Receiver balance after")
    def receiver_balance_after_cell(self, obj):
        return amount(obj.receiver_balance_after, obj.credited_currency)

    @admin.display(description="Customer")
    def customer(self, obj):
        payer = obj.receiver_account if obj.sender_account.is_house else obj.sender_account
        return account_owner(payer)

    initiated_by_email = email_column("initiated_by", "Initiated by", sortable=False)

    @admin.display(description="Approved by")
    def approved_by(self, obj):
        """Dual control's second pair of eyes: a held deposit or reversal is made in its requester's name
        (Initiated by) once someone else approved it, who is named here."""
        return approver(getattr(obj, "approval", None)) or "—"

    def get_fieldsets(self, request, obj=None):
        """"Approved by" only on a transaction that waited for approval."""
        if obj is not None and getattr(obj, "approval", None) is not None:
            return self.fieldsets
        (name, options), *rest = self.fieldsets
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "approved_by"]}), *rest]

    @admin.display(description="Reversal")
    def reversal_link(self, obj):
        if obj.reverses_id:
            return format_html("Reverses {}", id_link(obj.reverses))
        reversal = getattr(obj, "reversal", None)
        if reversal is not None:
            approved = approver(getattr(reversal, "approval", None))
            return format_html("Reversed by {} on {}{}", id_link(reversal), when(reversal.created_at),
                               format_html(", requested by {}; approved by {}", email_link(reversal.initiated_by),
                                           approved) if approved else "")
        pending = selectors.pending_reversal_of(obj)
        if pending is not None:
            return format_html("A reversal waits for approval (request {})", link(pending, short_id(pending.pk)))
        return "Not reversed"

    def get_urls(self):
        return [path("<uuid:object_id>/reverse/", self.admin_site.admin_view(self.reverse_view),
                     name="api_transaction_reverse"),
                *super().get_urls()]

    @staticmethod
    def reversible(txn) -> bool:
        """Not reversed, not a reversal, and no reversal of it waiting for approval."""
        return (txn.status == Transaction.Status.SUCCESS and txn.kind != Transaction.Kind.REVERSAL
                and selectors.pending_reversal_of(txn) is None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"can_reverse": obj is not None and self.reversible(obj) and may(request.user, Power.REVERSE)
                 and not is_own(request.user, owner_ids=[obj.sender_account.owner_id, obj.receiver_account.owner_id]),
                 **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def reverse_view(self, request, object_id):
        if not may(request.user, Power.REVERSE):
            raise PermissionDenied
        txn = self.get_object(request, object_id)
        if txn is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        if not self.reversible(txn):
            messages.error(request, "This transaction cannot be reversed: "
                                    + ("it was already reversed." if txn.status == Transaction.Status.REVERSED
                                       else "it is itself a reversal." if txn.kind == Transaction.Kind.REVERSAL
                                       else "a reversal of it already waits for approval."
                                       if txn.status == Transaction.Status.SUCCESS else f"its status is {txn.status}."))
            return HttpResponseRedirect(change_url(txn))
        legs = txn.entries.select_related("account__owner").order_by("id")
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "original": txn,
            "title": "Reverse a transaction", "summary": self._summary(txn),
            # What the reversal posts: the mirror of every leg.
            "legs": [(account_party(leg.account), account_owner(leg.account), amount(-leg.amount, leg.currency))
                     for leg in legs],
        }
        form = ReverseForm(request.POST if request.method == "POST" else None)
        if request.method != "POST" or not form.is_valid() or "edit" in request.POST:
            return TemplateResponse(request, "admin/api/transaction/reverse.html", {**context, "form": form})
        if "confirm" not in request.POST:
            key_form = ConfirmKeyForm(initial={"idempotency_key": new_key("reverse")})
            held = approvals.needs_approval(request.user, Approval.Action.REVERSAL, txn.amount, txn.currency)
            return TemplateResponse(request, "admin/api/transaction/reverse_confirm.html",
                                    {**context, "form": form, "key_form": key_form, "held": held,
                                     "title": "Confirm the reversal"})
        key_form = ConfirmKeyForm(request.POST)
        if not key_form.is_valid():
            form.add_error(None, key_form.errors["idempotency_key"])
            return TemplateResponse(request, "admin/api/transaction/reverse.html", {**context, "form": form})
        reason = form.cleaned_data["reason"]

        try:
            outcome = money_request.run(
                user=request.user, key=key_form.cleaned_data["idempotency_key"], scope=f"reverse:{txn.pk}",
                payload={"reason": reason}, command=commands.Reverse(transaction_id=txn.pk, reason=reason),
                origin=request)
        except exceptions.DomainError as exc:
            messages.error(request, f"Not reversed: {refusal(exc)}")
            return HttpResponseRedirect(change_url(txn))
        if isinstance(outcome.result, Approval):
            return held_for_approval(self, request, outcome, f"The reversal of {str(txn.pk)[:8]}")
        compensating = outcome.result
        if not outcome.replayed:
            self.log_change(request, txn, f"Reversed: {reason}")
            self.log_addition(request, compensating, f"Reversal of {txn.pk}: {reason}")
        # Who gets the money back, in a customer's words: the payer of a transfer; for a cash deposit, the vault.
        back = ("taken back from " + txn.receiver_account_id) if txn.kind == Transaction.Kind.DEPOSIT else (
            "back to " + txn.sender_account_id)
        messages.success(request, f"Reversed: {money_text(txn.amount, txn.currency)} {back}. "
                                  f"The reversal is transaction {str(compensating.pk)[:8]}.")
        return HttpResponseRedirect(change_url(txn))

    @staticmethod
    def _summary(txn) -> list[tuple[str, str]]:
        return [
            ("Transaction", id_link(txn)), ("Kind", txn.get_kind_display()), ("Time (Amman)", when(txn.created_at)),
            ("From", format_html("{} · {}", link(txn.sender_account), account_owner(txn.sender_account))),
            ("To", format_html("{} · {}", link(txn.receiver_account), account_owner(txn.receiver_account))),
            ("Amount", amount(txn.amount, txn.currency)),
            ("Fee", amount(txn.fee_amount, txn.currency) if txn.fee_amount else "—"),
            ("Credited", amount(txn.credited_amount, txn.credited_currency)),
            ("Description", txn.description or "—"),
        ]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(LedgerLineColumns, ReadOnlyAdmin):
    list_display = ["created", "transaction_cell", "kind", "account_cell", "owner", "amount_cell", "purpose",
                    "balance_after_cell"]
    list_display_links = ["created"]
    list_filter = ["currency", "purpose", LedgerAccountFilter, "created_at"]
    list_select_related = ["transaction", "account__owner"]
    search_fields = ["account__account_number", "account__owner__email", "account__owner__first_name",
                     "account__owner__last_name", "transaction__id"]
    search_help_text = "Customer email or name, account number or transaction id (part of any is enough)."
    date_hierarchy = "created_at"
    fields = ["id", "created", "transaction_cell", "kind", "account_cell", "owner", "amount_cell", "purpose",
              "balance_after_cell"]
    readonly_fields = fields

    created = time_column("created_at")

    @admin.display(description="Transaction")
    def transaction_cell(self, obj):
        return id_link(obj.transaction)

    @admin.display(description="Kind")
    def kind(self, obj):
        return obj.transaction.get_kind_display()

    def changelist_view(self, request, extra_context=None):
        """With one account chosen (``?account=``, the account page's Statement link): a statement, titled
        so, with the opening and closing balances of the lines shown and the period's totals."""
        response = super().changelist_view(request, extra_context)
        number = request.GET.get("account")
        changelist = getattr(response, "context_data", {}).get("cl")
        account = selectors.account_with_owner(number)
        if changelist is None or account is None:
            return response
        lines = changelist.queryset.order_by()
        totals = lines.aggregate(credits=Sum("amount", filter=Q(amount__gt=0)), debits=Sum("amount", filter=Q(amount__lt=0)))
        first = lines.order_by("created_at", "id").first()
        last = lines.order_by("-created_at", "-id").first()
        credits, debits = totals["credits"] or Decimal(0), totals["debits"] or Decimal(0)
        opening = first.balance_after - first.amount if first and first.balance_after is not None else None
        closing = last.balance_after if last else None
        response.context_data.update(
            title=f"Statement of account {account.account_number}"
                  + (f" ({account.owner.get_full_name() or account.owner.email})" if account.owner_id else ""),
            statement=[("Opening balance", amount(opening, account.currency) if opening is not None else "—"),
                       ("Money in", amount(credits, account.currency)),
                       ("Money out", amount(-debits, account.currency)),
                       ("Closing balance", amount(closing, account.currency) if closing is not None else "—")])
        return response
