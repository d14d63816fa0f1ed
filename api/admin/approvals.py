"""Dual control: the approvals queue, approving and rejecting."""


from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import exceptions
from ..models import (
    Approval,
    Transaction,
)
from ..roles import Power, may
from ..services import approvals
from ..services.conflicts import is_own
from .display import (
    ReadOnlyAdmin,
    account_owner,
    account_party,
    amount,
    change_url,
    email_column,
    email_link,
    id_column,
    id_link,
    link,
    money_text,
    reason_field,
    refusal,
    time_column,
    when,
)

# --- dual control and the audit trail ----------------------------------------------------------

class RejectForm(forms.Form):
    reason = reason_field("Told to the requester; kept on the request and in the audit trail.")


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    """Requests held for a second pair of eyes. Supervisors approve or reject them here or by the API."""

    list_display = ["short", "decide", "created", "action", "status", "amount_cell", "target", "requested",
                    "decided"]
    list_filter = ["status", "action"]
    ordering = ["created_at"]  # a queue: the oldest request first
    search_fields = ["id", "requested_by__email", "requested_by__last_name", "account__account_number",
                     "account__owner__email", "account__owner__first_name", "account__owner__last_name"]
    search_help_text = "Request id, requester's email or surname, account number, or its owner's email or name."
    fields = ["short", "created", "action", "status", "amount_cell", "target", "description", "requested",
              "decided", "decided_time", "decision", "result_cell"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "requested_by", "decided_by", "account__owner", "result",
            "target_transaction__sender_account__owner", "target_transaction__receiver_account__owner")

    short = id_column()
    created = time_column("created_at", "Requested (Amman)")

    @admin.display(description="Amount", ordering="amount")
    def amount_cell(self, obj):
        return amount(obj.amount, obj.currency)

    @admin.display(description="On")
    def target(self, obj):
        if obj.account_id:
            return format_html("{} · {}", link(obj.account, obj.account_id), account_owner(obj.account))
        txn = obj.target_transaction
        return format_html("{} {} · {} ({}) → {} ({})", txn.get_kind_display(), id_link(txn),
                           account_party(txn.sender_account), account_owner(txn.sender_account),
                           account_party(txn.receiver_account), account_owner(txn.receiver_account))

    @admin.display(description="Decision reason")
    def decision(self, obj):
        return obj.decision_reason or "—"

    requested = email_column("requested_by", "Requested by")

    @admin.display(description="Decided by")
    def decided(self, obj):
        if obj.status == Approval.Status.PENDING:
            return "Nobody yet: a supervisor other than the requester approves or rejects it"
        return email_link(obj.decided_by)
    decided_time = time_column("decided_at", "Decided (Amman)", sortable=False)

    @admin.display(description="Transaction made")
    def result_cell(self, obj):
        return id_link(obj.result) if obj.result_id else "—"

    @admin.display(description="Decide")
    def decide(self, obj):
        return "—"  # replaced per request (get_list_display): whether this viewer may decide

    @staticmethod
    def can_decide(approval, user) -> bool:
        """Pending, not one's own request, nor about one's own accounts (the rows the page has read already)."""
        if approval.account_id:
            owners = [approval.account.owner_id]
        else:
            txn = approval.target_transaction
            owners = [txn.sender_account.owner_id, txn.receiver_account.owner_id]
        return (approval.status == Approval.Status.PENDING and approval.requested_by_id != user.pk
                and may(user, Power.DECIDE_APPROVAL) and not is_own(user, owner_ids=owners))

    def get_list_display(self, request):
        """Approve or reject from the queue, for whoever may decide that request (never one's own)."""
        @admin.display(description="Decide")
        def decide(obj):
            if not self.can_decide(obj, request.user):
                return "—"
            return format_html('<a class="button" href="{}">Approve or reject</a>',
                               reverse("admin:api_approval_decide", args=[obj.pk]))

        @admin.display(description="On")
        def target(obj):  # wraps in the list, so every column fits 1400 px (requester included)
            return format_html('<span class="nx-wrap nx-narrow">{}</span>', self.target(obj))

        columns = {"decide": decide, "target": target}
        # The queue (pending only) needs no status and no decider: each row is pending, none decided yet.
        pending = request.GET.get("status__exact") == Approval.Status.PENDING
        return [columns.get(name, name) for name in super().get_list_display(request)
                if not (pending and name in ("status", "decided"))]

    def get_urls(self):
        return [path("<uuid:object_id>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="api_approval_decide"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        can_decide = obj is not None and self.can_decide(obj, request.user)
        return super().change_view(request, object_id, form_url,
                                   extra_context={"can_decide": can_decide, **(extra_context or {})})

    def decide_view(self, request, object_id):
        """Approve (the held command runs now) or reject with a reason."""
        if not may(request.user, Power.DECIDE_APPROVAL):
            raise PermissionDenied
        approval = self.get_object(request, object_id)
        if approval is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": approval,
                   "title": "Approve or reject",
                   "request": format_html("{} of {}", approval.get_action_display(),
                                          amount(approval.amount, approval.currency)),
                   "target": self.target(approval), "requested": self.requested(approval)}
        if not self.can_decide(approval, request.user):
            # Reached by Back or a bookmark once decided, or not this viewer's to decide: what stands, no buttons.
            return TemplateResponse(request, "admin/api/approval/decide.html",
                                    {**context, "title": "Decision", "settled": self.settled(approval, request.user)})
        form = RejectForm(request.POST if "reject" in request.POST else None)
        if request.method == "POST" and "approve" in request.POST:
            try:
                _, txn = approvals.approval_approve(approver=request.user, approval_id=approval.pk)
            except exceptions.DomainError as exc:
                messages.error(request, f"Not approved: {refusal(exc)}")
                return HttpResponseRedirect(change_url(approval))
            self.log_change(request, approval, "Approved.")
            done = f"transaction {str(txn.pk)[:8]}" if isinstance(txn, Transaction) else f"account {txn.pk}"
            messages.success(request, f"Approved: {approval.get_action_display().lower()} of "
                                      f"{money_text(approval.amount, approval.currency)} done ({done}).")
            return HttpResponseRedirect(change_url(txn))
        if request.method == "POST" and form.is_valid():
            try:
                approvals.approval_reject(approver=request.user, approval_id=approval.pk,
                                          reason=form.cleaned_data["reason"])
            except exceptions.DomainError as exc:
                messages.error(request, f"Not rejected: {refusal(exc)}")
                return HttpResponseRedirect(change_url(approval))
            self.log_change(request, approval, f"Rejected: {form.cleaned_data['reason']}")
            messages.success(request, "Rejected; nothing moved.")
            return HttpResponseRedirect(change_url(approval))
        return TemplateResponse(request, "admin/api/approval/decide.html", {**context, "form": form})

    @staticmethod
    def settled(approval, user) -> str:
        """Why ``user`` has nothing to decide on ``approval``: its decision, or why it is someone else's."""
        if approval.status == Approval.Status.PENDING:
            if approval.requested_by_id == user.pk:
                return "You requested it: someone else approves or rejects it."
            return ("It is about your own accounts: someone else approves or rejects it."
                    if may(user, Power.DECIDE_APPROVAL) else "Your role does not approve or reject requests.")
        if approval.status == Approval.Status.CANCELLED:
            return format_html("Cancelled on {}: {}", when(approval.decided_at),
                               approval.decision_reason or "the requester was blocked or deactivated.")
        made = format_html("; transaction made: {}", id_link(approval.result)) if approval.result_id else ""
        reason = format_html(": {}", approval.decision_reason) if approval.decision_reason else ""
        return format_html("Already {} by {} on {}{}{}. Nothing more to decide.",
                           approval.get_status_display().lower(), email_link(approval.decided_by),
                           when(approval.decided_at), reason, made)
