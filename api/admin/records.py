"""Cards, FX rates, billers, bill payments, idempotency keys, notifications and staff roles."""


from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.html import format_html

from ..models import (
    Biller,
    BillPayment,
    Card,
    FxRate,
    IdempotencyRecord,
    Notification,
)
from ..services.accounts import (
    group_deleted_recorded,
    group_permissions,
    group_update_recorded,
)
from ..services.fx import fx_rate_publish
from .display import (
    ReadOnlyAdmin,
    account_owner,
    amount,
    email_column,
    id_column,
    id_link,
    link,
    time_column,
)
from .users import (
    notification_links,
    notification_text,
    read_state,
)

# --- cards, FX, bills, idempotency ---------------------------------------------------------------

@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["masked_number", "card_type", "account_cell", "owner", "expiration_date", "is_active"]
    list_filter = ["card_type", "is_active"]
    list_select_related = ["account__owner"]
    search_fields = ["last4", "account__account_number", "account__owner__email", "account__owner__first_name",
                     "account__owner__last_name"]
    search_help_text = "Last four digits, account number, or the owner's email or name."
    readonly_fields = ["masked_number", "card_type", "account_cell", "owner", "expiration_date", "created"]
    fields = ["masked_number", "card_type", "account_cell", "owner", "expiration_date", "is_active", "created"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Account")
    def account_cell(self, obj):
        return link(obj.account, obj.account_id)

    @admin.display(description="Owner", ordering="account__owner__email")
    def owner(self, obj):
        return account_owner(obj.account)

    created = time_column("created_at", "Issued", sortable=False)


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate", "effective", "created_by_email"]
    list_filter = ["currency"]
    list_select_related = ["created_by"]

    def get_readonly_fields(self, request, obj=None):
        # History is kept: a published rate is never edited, a new one is added.
        return ["currency", "rate", "effective_from"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return  # a published rate is read-only
        published = fx_rate_publish(actor=request.user, currency=obj.currency, rate=obj.rate,
                                    effective_from=obj.effective_from)
        obj.pk, obj.created_by = published.pk, published.created_by

    def has_delete_permission(self, request, obj=None):
        return False

    effective = time_column("effective_from", "Effective from (Amman)")
    created_by_email = email_column("created_by", "Published by", sortable=False)


@admin.register(Biller)
class BillerAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "currency", "settlement", "is_active"]
    list_filter = ["category", "currency", "is_active"]
    list_select_related = ["settlement_account"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["settlement_account", "currency"] if obj else []

    @admin.display(description="Settlement account")
    def settlement(self, obj):
        return link(obj.settlement_account, obj.settlement_account_id)


@admin.register(BillPayment)
class BillPaymentAdmin(ReadOnlyAdmin):
    list_display = ["short", "created", "account_cell", "owner", "biller", "amount_cell", "debited", "reference",
                    "status"]
    list_filter = ["status", "biller", "currency"]
    list_select_related = ["account__owner", "biller", "transaction"]
    search_fields = ["reference", "account__account_number", "account__owner__email", "account__owner__first_name",
                     "account__owner__last_name"]
    search_help_text = "Reference, account number, or the owner's email or name."
    fields = ["id", "created", "account_cell", "owner", "biller", "amount_cell", "debited", "reference", "status",
              "transaction_cell"]
    readonly_fields = fields

    short = id_column()
    created = time_column("created_at")

    @admin.display(description="Account")
    def account_cell(self, obj):
        return link(obj.account, obj.account_id)

    @admin.display(description="Owner", ordering="account__owner__email")
    def owner(self, obj):
        return account_owner(obj.account)

    @admin.display(description="Amount", ordering="amount")
    def amount_cell(self, obj):
        return amount(obj.amount, obj.currency)

    @admin.display(description="Debited")
    def debited(self, obj):
        return amount(obj.debited_amount, obj.transaction.currency)

    @admin.display(description="Transaction")
    def transaction_cell(self, obj):
        return id_link(obj.transaction)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["user_email", "key", "response_status", "created"]
    list_select_related = ["user"]
    search_fields = ["key", "user__email"]

    user_email = email_column("user", "User")
    created = time_column("created_at")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """What customers were told (read-only: written by the services after commit)."""

    list_display = ["created", "user_email", "kind", "happened", "about", "read_cell"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__email", "title"]
    search_help_text = "Customer email or title."
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = ["user_email", "kind", "title", "body", "about", "data", "created", "read_cell"]
    readonly_fields = fields

    created = time_column("created_at")
    user_email = email_column("user", "Customer")

    @admin.display(description="What happened")
    def happened(self, obj):
        return format_html('<span class="nx-wrap">{}</span>', notification_text(obj))

    @admin.display(description="About")
    def about(self, obj):
        return notification_links(obj)

    @admin.display(description="Read", ordering="read_at")
    def read_cell(self, obj):
        return read_state(obj)


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(BaseGroupAdmin):
    """Roles (groups): a change of their permissions is audited as ``role_change`` (v1.3)."""

    def save_model(self, request, obj, form, change):
        request._audit_group_before = group_permissions(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        group_update_recorded(actor=request.user, group=form.instance,
                              before=getattr(request, "_audit_group_before", None))

    def delete_model(self, request, obj):
        self.delete_queryset(request, self.get_queryset(request).filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        """Deleting a role takes its permissions from every member: audited as ``role_change`` too."""
        for group in queryset:
            group_deleted_recorded(actor=request.user, group=group)
        super().delete_queryset(request, queryset)
