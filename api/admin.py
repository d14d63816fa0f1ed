import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db import DataError

from . import bounds, exceptions
from .admin_site import StaffSetPasswordForm
from .models import Account, Biller, BillPayment, Card, FxRate, IdempotencyRecord, LedgerEntry, Transaction, User
from .services.accounts import account_update
from .services.transfers import reverse


class BoundedChangeList(ChangeList):
    """A change list whose date inputs answer "?e=1" (invalid filter), as any other bad filter does.

    The date hierarchy's year is checked against the bounds of every date input (``api.bounds``):
    Django computes the end of the chosen year, month or day and makes both ends aware, which
    overflows at the edges of Python's range (a 500). Lookups typed into the URL by hand
    (``?created_at__year__gte=99999``) fail only when the query is built or run, with the same
    ValueError or OverflowError, or PostgreSQL's DataError; they are refused likewise.
    """

    def get_results(self, request):
        try:
            super().get_results(request)
        except (ValueError, OverflowError, DataError) as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_filters(self, request):
        year = self.get_filters_params().get(f"{self.date_hierarchy}__year") if self.date_hierarchy else None
        if year:
            try:
                bounds.validate_date(dt.date(int(year[-1]), 1, 1))
            except ValueError:
                pass  # not a year at all: Django refuses it itself
            except ValidationError as exc:
                raise IncorrectLookupParameters(exc) from exc
        return super().get_filters(request)


class BoundedDates:
    """Mixin for a ModelAdmin whose list takes dates (a date hierarchy, date filters)."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; staff can look, never edit or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = StaffSetPasswordForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "country", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "country"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "country"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]  # records of what happened, not inputs
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["account_number", "owner", "type", "currency", "balance", "daily_limit", "role", "is_active"]
    list_filter = ["type", "currency", "role", "is_active"]
    search_fields = ["account_number", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["account_number", "owner", "type", "currency", "role", "balance", "created_at", "updated_at"]
    fields = ["account_number", "owner", "type", "currency", "role", "name", "balance", "daily_limit",
              "is_active", "created_at", "updated_at"]
    actions = ["freeze", "unfreeze"]

    def has_add_permission(self, request):
        return False  # accounts are opened by customers through the API

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Only the fields staff may edit. A full save() would also write back the balance (and the
        # daily spending) read when the form was posted, undoing any transfer committed meanwhile.
        obj.save(update_fields=[name for name in self.fields if name not in self.readonly_fields] + ["updated_at"])

    @admin.action(description="Freeze selected accounts")
    def freeze(self, request, queryset):
        for account in queryset:
            account_update(actor=request.user, account_number=account.pk, is_active=False)
        self.message_user(request, f"Froze {queryset.count()} account(s).")

    @admin.action(description="Unfreeze selected accounts")
    def unfreeze(self, request, queryset):
        for account in queryset:
            account_update(actor=request.user, account_number=account.pk, is_active=True)
        self.message_user(request, f"Unfroze {queryset.count()} account(s).")


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount", "currency", "purpose", "balance_after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(BoundedDates, ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "sender_account", "receiver_account", "amount", "currency",
                    "fee_amount", "credited_amount", "credited_currency", "created_at"]
    list_filter = ["kind", "status", "currency", "created_at"]
    search_fields = ["id", "sender_account__account_number", "receiver_account__account_number", "idempotency_key"]
    date_hierarchy = "created_at"
    inlines = [LedgerInline]
    actions = ["reverse_selected"]

    def get_actions(self, request):
        # Reversal is a write; the read-only permissions would otherwise hide the action.
        actions = super().get_actions(request)
        if request.user.is_staff:
            actions["reverse_selected"] = (type(self).reverse_selected, "reverse_selected",
                                           "Reverse selected transactions")
        return actions

    @admin.action(description="Reverse selected transactions")
    def reverse_selected(self, request, queryset):
        done = 0
        for txn in queryset:
            try:
                reverse(staff=request.user, transaction_id=txn.pk, reason=f"Reversed in admin by {request.user}")
                done += 1
            except exceptions.DomainError as exc:
                self.message_user(request, f"{txn.pk}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"Reversed {done} transaction(s).")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BoundedDates, ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "amount", "currency", "purpose", "balance_after", "created_at"]
    list_filter = ["currency", "purpose", "created_at"]
    search_fields = ["account__account_number", "transaction__id"]


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["masked_number", "card_type", "account", "expiration_date", "is_active"]
    list_filter = ["card_type", "is_active"]
    search_fields = ["last4", "account__account_number", "account__owner__email"]
    readonly_fields = ["masked_number", "card_type", "account", "last4", "expiration_date", "created_at"]
    fields = ["masked_number", "card_type", "account", "expiration_date", "is_active", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate", "effective_from", "created_by"]
    list_filter = ["currency"]

    def get_readonly_fields(self, request, obj=None):
        # History is kept: a published rate is never edited, a new one is added.
        return ["currency", "rate", "effective_from"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Biller)
class BillerAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "currency", "settlement_account", "is_active"]
    list_filter = ["category", "currency", "is_active"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["settlement_account", "currency"] if obj else []


@admin.register(BillPayment)
class BillPaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "biller", "amount", "currency", "debited_amount", "reference", "status", "created_at"]
    list_filter = ["status", "biller", "currency"]
    search_fields = ["reference", "account__account_number"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["user", "key", "response_status", "created_at"]
    search_fields = ["key", "user__email"]
    exclude = ["response_body"]


# Lists of the apps registered before this one (django-axes's attempts and logs) get the same guard;
# ours (here, in risk and business) carry the mixin themselves.
for _model, _model_admin in list(admin.site._registry.items()):
    if _model_admin.date_hierarchy and not isinstance(_model_admin, BoundedDates):
        admin.site.unregister(_model)
        admin.site.register(_model, type(type(_model_admin).__name__, (BoundedDates, type(_model_admin)), {}))
