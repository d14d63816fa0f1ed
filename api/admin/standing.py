"""The back office's standing orders (contract v1.3): every customer's orders and their runs, read-only;
staff who may (``api.cancel_standingorder``) cancel one with a reason, through the service the API uses
(audited, never one of their own). Nobody creates or changes an order for a customer."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import ngettext

from .. import exceptions
from ..models import StandingOrder, StandingOrderRun
from ..roles import Power, may
from ..services import standing
from ..services.conflicts import is_own
from .display import (
    ReadOnlyAdmin,
    account_party,
    amount,
    change_url,
    email_column,
    id_link,
    link,
    reason_field,
    refusal,
    short_id,
    time_column,
    when,
)


def day_column(field: str, description: str):
    """A date as the API writes it (``2027-01-31``); "—" when there is none."""
    return admin.display(description=description, ordering=field)(
        lambda self, obj: getattr(obj, field).isoformat() if getattr(obj, field) else "—")


class CancelForm(forms.Form):
    reason = reason_field("Kept in the audit trail and on the order.")


class RunInline(admin.TabularInline):
    model = StandingOrderRun
    template = "admin/api/standingorder/runs.html"  # "No run yet" rather than an empty table
    fields = ["run_on", "status", "paid", "error_code", "created"]
    readonly_fields = fields
    ordering = ["-run_on"]
    extra = 0
    can_delete = False
    verbose_name_plural = "Runs (newest first)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Transfer")
    def paid(self, run):
        return id_link(run.transaction) if run.transaction_id else "—"

    created = time_column("created_at", "Carried out (Amman)", sortable=False)


@admin.register(StandingOrder)
class StandingOrderAdmin(ReadOnlyAdmin):
    list_display = ["short", "owner_cell", "sender", "receiver", "money", "interval", "next_run", "status", "created"]
    list_filter = ["status", "interval"]
    list_select_related = ["owner", "sender_account", "receiver_account"]
    search_fields = ["owner__email", "owner__first_name", "owner__last_name", "sender_account__account_number",
                     "receiver_account__account_number", "description"]
    search_help_text = "A customer's name or email, an account number, or the description."
    ordering = ["-created_at", "-id"]
    fields = ["owner_cell", "sender", "receiver", "money", "description", "interval", "first", "end", "next_run",
              "status", "created", "cancellation"]
    readonly_fields = fields
    inlines = [RunInline]
    actions = ["cancel_orders"]

    @admin.display(description="ID")
    def short(self, order):
        return short_id(order.pk)  # the row's link to the order

    next_run = day_column("next_run_on", "Next run")
    first = day_column("first_date", "First run")
    end = day_column("end_date", "Last day")

    owner_cell = email_column("owner", "Customer")

    @admin.display(description="From")
    def sender(self, order):
        return account_party(order.sender_account)

    @admin.display(description="To")
    def receiver(self, order):
        return account_party(order.receiver_account)

    @admin.display(description="Amount", ordering="amount")
    def money(self, order):
        return amount(order.amount, order.currency)

    created = time_column("created_at", "Created (Amman)")

    @admin.display(description="Cancelled")
    def cancellation(self, order):
        if order.cancelled_at is None:
            return "—"
        return format_html("{} by {}: {}", when(order.cancelled_at),
                           link(order.cancelled_by, order.cancelled_by.email) if order.cancelled_by else "—",
                           order.cancel_reason or "no reason given")

    def has_cancel_permission(self, request):
        return may(request.user, Power.CANCEL_STANDING_ORDER)

    def can_cancel(self, request, order) -> bool:
        """Whether the order's page offers "Cancel this order…": active, not the viewer's own (v1.3), and the
        viewer may cancel (what standing.staff_cancel would otherwise refuse)."""
        return (order.status == StandingOrder.Status.ACTIVE and self.has_cancel_permission(request)
                and not is_own(request.user, owner_ids=[order.owner_id]))

    def get_urls(self):
        return [path("<uuid:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view),
                     name="api_standingorder_cancel"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = {"can_cancel": order is not None and self.can_cancel(request, order), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def cancel_view(self, request, object_id):
        """The order's own "Cancel this order…": the list action's reason page and service, for one order."""
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order = self.get_object(request, str(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        return self._cancel(request, [order], single=order) or HttpResponseRedirect(change_url(order))

    @admin.action(description="Cancel selected standing orders…", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        return self._cancel(request, list(queryset.select_related("owner")),
                            selected=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))

    def _cancel(self, request, chosen, *, single=None, selected=()):
        """A reason, then all or nothing in one transaction: one refusal (one's own order) cancels none. The
        reason page (a response) until a reason is posted; then cancel and return None."""
        orders = [order for order in chosen if order.status == StandingOrder.Status.ACTIVE]
        if not orders:
            self.message_user(request, "Nothing to cancel: " + ("the order is" if single else "the selected orders are")
                              + " no longer active.", messages.INFO)
            return None
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            count = len(orders)
            return TemplateResponse(request, "admin/api/standingorder/cancel.html", {
                **self.admin_site.each_context(request), "opts": self.opts, "form": form, "orders": orders,
                "title": ngettext("Cancel %(count)d standing order", "Cancel %(count)d standing orders", count)
                % {"count": count}, "single": single,
                "action": request.POST.get("action"), "selected": selected, "skipped": len(chosen) - count})
        reason = form.cleaned_data["reason"]
        try:
            with transaction.atomic():
                for order in orders:
                    standing.staff_cancel(staff=request.user, order_id=order.pk, reason=reason)
                    self.log_change(request, order, f"Cancelled the standing order: {reason}")
        except exceptions.DomainError as exc:
            self.message_user(request, f"Nothing cancelled: {refusal(exc)}", messages.ERROR)
            return None
        self.message_user(request, ngettext("Cancelled %(count)d standing order.", "Cancelled %(count)d standing orders.",
                                            len(orders)) % {"count": len(orders)})
        return None
