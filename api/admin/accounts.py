"""Accounts: the list and page, freezing with a reason, daily limits, the cash deposit desk."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from .. import bounds, exceptions, money, selectors
from ..bankday import bank_day
from ..models import (
    Account,
    Approval,
)
from ..roles import Power, may
from ..services import approvals, commands, money_request
from ..services.accounts import (
    account_update,
)
from ..services.conflicts import is_own
from ..services.money_request import KEY_PATTERN
from .display import (
    ACCOUNT_NUMBER,
    account_owner,
    account_shortcuts,
    amount,
    can_deposit_to,
    change_url,
    held_for_approval,
    link,
    money_text,
    refusal,
    short_id,
    time_column,
)
from .users import (
    UserControlForm,
)

# --- accounts ----------------------------------------------------------------------------------

class DepositForm(forms.Form):
    account = forms.CharField(label="Account number or customer email", max_length=254,
                              help_text="12 digits, or the email of a customer with one account.")
    amount = forms.CharField(label="Amount", max_length=40,
                             help_text="In the account's currency: up to 3 decimals for JOD, 2 for USD and EUR.")
    description = forms.CharField(label="Description", max_length=255, required=False, initial="Cash deposit")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.matches: list[Account] = []

    def clean_account(self):
        value = self.cleaned_data["account"].strip()
        customers = selectors.customer_accounts()
        if "@" in value:
            self.matches = list(customers.filter(owner__email=value.lower()).order_by("created_at"))
            if not self.matches:
                raise forms.ValidationError("No customer with this email has an account.")
        elif not ACCOUNT_NUMBER.fullmatch(value):
            raise forms.ValidationError(f"“{value}” is neither an account number nor an email: enter the 12 digits "
                                        "of the account, or the customer's email (find it by name under Accounts).")
        else:
            self.matches = list(customers.filter(pk=value))
            if not self.matches:
                raise forms.ValidationError(
                    f"{value} is one of the bank's own accounts: deposits go to a customer's account."
                    if selectors.account_exists(value) else f"No customer has an account numbered {value}.")
        if len(self.matches) > 1:
            raise forms.ValidationError(f"{value} has {len(self.matches)} accounts: choose one below.")
        account = self.matches[0]
        if not account.is_active:
            raise forms.ValidationError("This account is frozen: it cannot receive a deposit.")
        return account

    def clean_amount(self):
        try:
            raw = self.cleaned_data["amount"].strip()
            if "," in raw:  # "50,000": fifty thousand, or fifty with a decimal comma? Never guessed.
                raise forms.ValidationError("Write the amount with a dot for decimals and no thousands separators "
                                            "(50.000 or 50000).")
            value = money.parse_amount(raw)
        except money.MoneyError as exc:
            raise forms.ValidationError(str(exc))
        # The contract's bound for one amount (v1.1): larger ones are refused before any service runs.
        if value > bounds.MAX_AMOUNT:
            raise forms.ValidationError(f"At most {bounds.MAX_AMOUNT:,} in one deposit.")
        return value

    def clean(self):
        cleaned = super().clean()
        account, value = cleaned.get("account"), cleaned.get("amount")
        if account is not None and value is not None and not money.fits_currency(value, account.currency):
            self.add_error("amount", f"{account.currency} amounts have at most "
                                     f"{money.MINOR_UNITS[account.currency]} decimal places.")
        return cleaned


class ConfirmKeyForm(forms.Form):
    """The idempotency key the confirmation page carries: a second click replays the first."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not KEY_PATTERN.match(key):
            raise forms.ValidationError("The confirmation expired: start again.")
        return key


def new_key(purpose: str) -> str:
    return f"admin-{purpose}-{uuid.uuid4().hex}"


class AccountForm(forms.ModelForm):
    """The account's change form: a change of state or limit says why (kept in the audit trail)."""

    reason = forms.CharField(label="Reason", required=False, max_length=255,
                             widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
                             help_text="Needed to freeze, unfreeze or change the limit; kept in the audit trail.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial_limit = self.instance.daily_limit  # the limit as read (the form's instance takes the new one)
        if self.instance.pk and "daily_limit" in self.initial:  # 10000.00 for a USD account, not 10000.000
            self.initial["daily_limit"] = money.fmt(self.instance.daily_limit, self.instance.currency)

    def clean(self):
        data = super().clean()
        if {"is_active", "daily_limit"} & set(self.changed_data) and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why: freezing, unfreezing and limit changes are audited with a reason.")
        return data


class HolderFilter(admin.SimpleListFilter):
    """Customers' accounts by default (what a teller looks for); the bank's own (vault, fees, FX, settlement)
    one click away, or everyone's."""

    title = "holder"  # Django writes "By holder"
    parameter_name = "holder"
    DEFAULT = "customers"

    def lookups(self, request, model_admin):
        return [("customers", "Customers"), ("bank", "The bank"), ("all", "Everyone")]

    def value(self):
        return super().value() or self.DEFAULT

    def choices(self, changelist):  # no "All" of Django's own: "Everyone" says it, and no choice is the default
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request, queryset):
        if self.value() == "customers":
            return queryset.filter(role=Account.Role.CUSTOMER)
        if self.value() == "bank":
            return queryset.exclude(role=Account.Role.CUSTOMER)
        return queryset


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    EDITABLE = ["daily_limit", "is_active"]
    form = AccountForm

    list_display = ["account_number", "owner_email", "kind", "balance_display", "limit_display", "is_active",
                    "shortcuts"]
    list_filter = [HolderFilter, "role", "type", "currency", "is_active"]
    search_fields = ["account_number", "owner__email", "owner__first_name", "owner__last_name", "name"]
    search_help_text = "Account number, or the owner's email or name (part of any is enough)."
    list_select_related = ["owner"]
    fieldsets = [
        (None, {"fields": ["account_number", "owner_link", "type", "currency", "role", "name"]}),
        ("Money", {"fields": ["balance_detail", "daily_limit", "spent_today_display", "is_active"]}),
        ("Records", {"fields": ["see", "created", "updated"]}),
    ]
    readonly_fields = ["account_number", "owner_link", "type", "currency", "role", "name", "balance_detail",
                       "spent_today_display", "see", "created", "updated"]
    actions = ["freeze", "unfreeze"]

    def has_add_permission(self, request):
        return False  # accounts are opened by customers through the API

    def has_delete_permission(self, request, obj=None):
        return False

    # v1.3: freezing, unfreezing and the limit are separate powers, and nobody changes an account of their
    # own: the form opens for whoever holds one of them, with only what they may change editable.
    # the service's own permissions
    POWERS = {"is_active": (Power.FREEZE_ACCOUNT, Power.UNFREEZE_ACCOUNT), "daily_limit": (Power.CHANGE_DAILY_LIMIT,)}

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_house or is_own(request.user, owner_ids=[obj.owner_id])):
            return False
        return any(may(request.user, perm) for perms in self.POWERS.values() for perm in perms)

    # What a save did is said by save_model (refused, held for approval, done), never by Django's generic
    # "was changed successfully" nor by its log entry "Changed Daily limit." for a limit that did not change.

    def log_change(self, request, obj, message):
        if getattr(request, "nexus_refused", False):
            return
        super().log_change(request, obj, getattr(request, "nexus_log", None) or message)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "nexus_log", None):
            return  # save_model said what happened
        super().message_user(request, message, level, *args, **kwargs)

    def response_change(self, request, obj):
        if getattr(request, "nexus_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def has_freeze_permission(self, request):
        return may(request.user, Power.FREEZE_ACCOUNT)

    def has_unfreeze_permission(self, request):
        return may(request.user, Power.UNFREEZE_ACCOUNT)

    def get_fieldsets(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return self.fieldsets
        money, *rest = self.fieldsets[1:]
        return [self.fieldsets[0], (money[0], {"fields": [*money[1]["fields"], "reason"]}), *rest]

    def get_readonly_fields(self, request, obj=None):
        locked = [name for name, perms in self.POWERS.items() if not any(may(request.user, p) for p in perms)]
        # The one way the box can go for this account: a role that may freeze but not unfreeze (a Teller)
        # sees a frozen account's state, not a box it cannot untick.
        power = Power.UNFREEZE_ACCOUNT if obj is not None and not obj.is_active else Power.FREEZE_ACCOUNT
        if obj is not None and not may(request.user, power):
            locked.append("is_active")
        return [*super().get_readonly_fields(request, obj), *dict.fromkeys(locked)]

    def save_model(self, request, obj, form, change):
        # The API's service: only these fields, under the row lock, audited. A full save() would also
        # write back the balance read when the form was posted, undoing a transfer committed meanwhile.
        # A refusal becomes the form's message (changeform_view's transaction rolls back), never a 500.
        changed = {name: form.cleaned_data[name] for name in self.EDITABLE if name in form.changed_data}
        if not changed:
            return
        try:
            result = account_update(actor=request.user, account_number=obj.pk, reason=form.cleaned_data.get("reason", "").strip(),
                                    **changed)
        except exceptions.DomainError as exc:  # the service rolled its own savepoint back: nothing changed
            request.nexus_refused = True  # no "changed" log entry, back to the form (log_change, response_change)
            messages.error(request, f"Not saved: {refusal(exc)}")
            return
        state = ("Froze the account" if not changed["is_active"] else "Unfroze the account") if "is_active" in changed else ""
        if isinstance(result, Approval):
            limit = money_text(changed["daily_limit"], obj.currency)
            request.nexus_log = "; ".join(filter(None, [state, f"Requested a daily limit of {limit} (request "
                                                               f"{str(result.pk)[:8]})"]))
            if state:
                messages.success(request, f"{state}.")
            messages.warning(request, format_html(
                "The daily limit of {} waits for a second approver (request {}): until then it stays {}.{}",
                limit, link(result, short_id(result.pk)), money_text(form.initial_limit, obj.currency),
                "" if state else " Nothing else changed."))

    @admin.display(description="Owner", ordering="owner__email")
    def owner_email(self, obj):
        """The owner's email and, under it, their name: found by a surname, the row says why it matched."""
        name = "" if obj.is_house else obj.owner.get_full_name()
        if not name:
            return account_owner(obj)
        return format_html('{}<br><span class="nx-name">{}</span>', account_owner(obj), name)

    @admin.display(description="Owner")
    def owner_link(self, obj):
        return account_owner(obj)

    @admin.display(description="Kind", ordering="type")
    def kind(self, obj):
        if obj.is_house:
            return f"{obj.get_role_display()} {obj.currency}"
        return obj.type if obj.type == obj.currency else f"{obj.type} {obj.currency}"

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj):
        if obj.is_house:
            # House balances are never kept on the row (it would serialise every transfer).
            return mark_safe('<span class="help" title="The sum of its ledger entries: see Statement">'  # noqa: S308
                             "in the ledger</span>")
        return amount(obj.balance, obj.currency)

    @admin.display(description="Balance")
    def balance_detail(self, obj):
        if not obj.is_house:
            return amount(obj.balance, obj.currency)
        total = obj.entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        return format_html('{} <span class="help">(the sum of its ledger entries)</span>', amount(total, obj.currency))

    @admin.display(description="Daily limit", ordering="daily_limit")
    def limit_display(self, obj):
        return "—" if obj.is_house else amount(obj.daily_limit, obj.currency)

    @admin.display(description="Spent today (Amman)")
    def spent_today_display(self, obj):
        return amount(obj.spent_on_day(bank_day()), obj.currency)

    @admin.display(description="Records")
    def shortcuts(self, obj):
        return account_shortcuts(obj)

    def get_list_display(self, request):
        """The shortcuts column knows who looks (no deposit link on one's own accounts or for a role that
        cannot deposit): a function of this request, never state on the shared admin object."""
        @admin.display(description="Records")
        def shortcuts(obj):
            return account_shortcuts(obj, request.user)

        return [shortcuts if name == "shortcuts" else name for name in super().get_list_display(request)]

    @admin.display(description="See")
    def see(self, obj):
        return account_shortcuts(obj)

    created = time_column("created_at", "Opened", sortable=False)
    updated = time_column("updated_at", "Last changed", sortable=False)

    def _set_active(self, request, queryset, is_active: bool):
        """Ask for a reason and confirm, listing what will change; then all or nothing, in one transaction:
        one refusal changes nothing. What is refused for sure (the bank's own accounts, one's own) is said
        before a reason is asked for."""
        verb, done, what = ("Unfreeze", "Unfroze", "Unfrozen accounts send and receive money again.") if is_active else (
            "Freeze", "Froze", "Frozen accounts can neither send nor receive money until someone unfreezes them.")
        refused = self._never_frozen(request, queryset, verb)
        if refused:
            self.message_user(request, refused, messages.ERROR)
            return None
        accounts = list(queryset.filter(is_active=not is_active).select_related("owner"))
        form = UserControlForm(request.POST if "apply" in request.POST else None)
        if not accounts:
            self.message_user(request, f"Nothing to {verb.lower()}: the selected accounts already are "
                                       f"{'active' if is_active else 'frozen'}.", messages.INFO)
            return None
        if not form.is_valid():
            return TemplateResponse(request, "admin/api/account/set_active.html", {
                **self.admin_site.each_context(request), "opts": self.opts, "form": form, "accounts": accounts,
                "title": f"{verb} {len(accounts)} {ngettext('account', 'accounts', len(accounts))}", "consequence": what, "button": f"{verb} now",
                "action": request.POST.get("action"), "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "skipped": queryset.count() - len(accounts)})
        reason = form.cleaned_data["reason"]
        try:
            with transaction.atomic():
                for account in accounts:
                    account_update(actor=request.user, account_number=account.pk, is_active=is_active, reason=reason)
                    self.log_change(request, account, f"{done} the account: {reason}")
        except exceptions.DomainError as exc:
            self.message_user(request, f"Nothing changed: {account.pk}: {refusal(exc)}", messages.ERROR)
            return None
        self.message_user(request, f"{done} {len(accounts)} {ngettext('account', 'accounts', len(accounts))}.")
        return None

    @staticmethod
    def _never_frozen(request, queryset, verb: str) -> str:
        """Why nothing in the selection will be frozen or unfrozen, if it holds an account that never is by
        this viewer: the bank's own (vault, fees, FX, settlement), or the viewer's own. Empty when none."""
        house = list(queryset.exclude(role=Account.Role.CUSTOMER).values_list("pk", flat=True))
        if house:
            return (f"Nothing to {verb.lower()}: the bank's own accounts are never frozen or unfrozen "
                    f"({', '.join(house)}). Select customers' accounts only.")
        own = list(queryset.filter(owner=request.user).values_list("pk", flat=True))
        if own:
            return (f"Nothing to {verb.lower()}: {', '.join(own)} {ngettext('is', 'are', len(own))} your own; "
                    f"another staff member must {verb.lower()} {ngettext('it', 'them', len(own))}.")
        return ""

    @admin.action(description="Freeze selected accounts…", permissions=["freeze"])
    def freeze(self, request, queryset):
        return self._set_active(request, queryset, False)

    @admin.action(description="Unfreeze selected accounts…", permissions=["unfreeze"])
    def unfreeze(self, request, queryset):
        return self._set_active(request, queryset, True)

    # The deposit page: find the account, enter the amount, confirm, then the service posts it.

    def get_urls(self):
        return [path("deposit/", self.admin_site.admin_view(self.deposit_view), name="api_account_deposit"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        extra = {"can_deposit": account is not None and can_deposit_to(request.user, account), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def deposit_view(self, request):
        if not may(request.user, Power.DEPOSIT):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "Cash deposit"}
        if request.method != "POST":
            form = DepositForm(initial={key: request.GET[key] for key in ("account", "amount") if key in request.GET})
            return self._deposit_page(request, context, form)
        form = DepositForm(request.POST)
        if not form.is_valid() or "edit" in request.POST:
            return self._deposit_page(request, context, form)
        data = form.cleaned_data
        account = data["account"]
        if "confirm" not in request.POST:
            key_form = ConfirmKeyForm(initial={"idempotency_key": new_key("deposit")})
            return TemplateResponse(request, "admin/api/account/deposit_confirm.html", {
                **context, "title": "Confirm the deposit", "form": form, "key_form": key_form, "account": account,
                "amount": amount(data["amount"], account.currency),
                "held": approvals.needs_approval(request.user, Approval.Action.DEPOSIT, data["amount"], account.currency),
                "balance_after": amount(account.balance + data["amount"], account.currency),
                "balance": amount(account.balance, account.currency),
            })
        key_form = ConfirmKeyForm(request.POST)
        if not key_form.is_valid():
            form.add_error(None, key_form.errors["idempotency_key"])
            return self._deposit_page(request, context, form)
        description = data["description"] or "Cash deposit"

        payload = {"amount": data["amount"], "description": description}
        try:
            outcome = money_request.run(
                user=request.user, key=key_form.cleaned_data["idempotency_key"], scope=f"deposit:{account.pk}",
                payload=payload, command=commands.Deposit(account_number=account.pk, **payload), origin=request)
        except exceptions.DomainError as exc:
            form.add_error(None, f"Not deposited: {refusal(exc)}")
            return self._deposit_page(request, context, form)
        if isinstance(outcome.result, Approval):
            return held_for_approval(self, request, outcome, f"The deposit of {money_text(data['amount'], account.currency)} "
                                                              f"to {account.pk}")
        txn = outcome.result
        if not outcome.replayed:
            self.log_addition(request, txn, f"Cash deposit of {money_text(txn.amount, txn.currency)} to {account.pk}: "
                                            f"{description}")
        messages.success(request, f"Deposited {money_text(txn.amount, txn.currency)} to {account.pk} "
                                  f"({account.owner.email}). New balance: "
                                  f"{money_text(txn.receiver_balance_after, txn.currency)}.")
        return HttpResponseRedirect(change_url(txn))

    def _deposit_page(self, request, context, form):
        return TemplateResponse(request, "admin/api/account/deposit.html", {**context, "form": form})
