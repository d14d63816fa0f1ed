"""Display helpers shared by every admin page (and the risk and business admins): ids, links a viewer may open, money, times, list filters."""

import re
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from nexus.admin_request import current_admin_request

from .. import exceptions, money
from ..models import (
    LedgerEntry,
    Transaction,
)
from ..roles import Power, may
from ..services.conflicts import is_own

# What the custom pages ask of a staff user: the same permissions as the API (api.roles).


# --- display helpers (shared by the risk and business admins) --------------------------------

def short_id(value) -> str:
    """The first 8 characters of an id; the whole id on hover."""
    text = str(value)
    return format_html('<span class="nx-id" title="{}">{}</span>', text, text[:8])


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def may_view(target) -> bool:
    """Whether whoever looks at the page being made may open ``target``'s page (an object, or a model for its
    list): a link that answers 403 is a dead end, so every link helper asks first. Outside an admin request
    (a helper called by a test or a command) there is nobody to ask about: yes."""
    request = current_admin_request()
    if request is None:
        return True
    model = target if isinstance(target, type) else type(target)
    model_admin = admin.site._registry.get(model)
    return model_admin is not None and model_admin.has_view_or_change_permission(
        request, None if isinstance(target, type) else target)


def page_link(target, url: str, text, *, title=None, css: str = "") -> str:
    """``text`` linking to ``url`` (``target``'s page or list) for a viewer who may open it; plain text for
    anyone else, with the same hover."""
    css = format_html(' class="{}"', css) if css else ""
    if not may_view(target):
        return format_html('<span{} title="{}">{}</span>', css, title or text, text)
    return format_html('<a{} href="{}" title="{}">{}</a>', css, url, title or text, text)


def link(obj, text=None, *, title=None) -> str:
    """A link to ``obj``'s admin page."""
    if obj is None:
        return "—"
    return page_link(obj, change_url(obj), text or str(obj), title=title or str(obj))


def id_link(obj) -> str:
    """A short id linking to the object's page (the full id on hover)."""
    return page_link(obj, change_url(obj), str(obj.pk)[:8], title=str(obj.pk), css="nx-id")


def _grouped(value, currency: str) -> str:
    return f"{money.quantize(Decimal(value), currency):,}"


def amount(value, currency: str) -> str:
    """``1,234.500 JOD``: the currency's minor units, grouped thousands, never wrapped."""
    if value is None or not currency:
        return "—"
    return format_html('<span class="nx-money">{}&nbsp;{}</span>', _grouped(value, currency), currency)


def money_text(value, currency: str) -> str:
    """``1,234.500 JOD`` as plain text (messages, log entries)."""
    return f"{_grouped(value, currency)} {currency}"


def when(value) -> str:
    """A time in the bank's zone (the admin runs with it active): minutes shown, the rest on hover."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html('<span class="nx-time" title="{}">{}</span>', local.isoformat(), f"{local:%Y-%m-%d %H:%M}")


def email_link(user) -> str:
    """The user's email linking to their page; a long one is cut with an ellipsis (whole on hover)."""
    if user is None:
        return "—"
    return page_link(user, change_url(user), user.email, css="nx-email")


def account_party(account) -> str:
    """An account as a list cell: the bank's own accounts by role, customers' by number."""
    text = f"{account.get_role_display()} {account.currency}" if account.is_house else account.account_number
    return link(account, text)


def account_owner(account) -> str:
    return "Nexus Bank" if account.is_house else email_link(account.owner)


# Columns that every list shows the same way, declared in one line: ``created = time_column("created_at")``.

def time_column(field: str, description: str = "Time (Amman)", *, sortable: bool = True):
    """The time in ``field``, in the bank's zone."""
    return admin.display(description=description, ordering=field if sortable else None)(
        lambda self, obj: when(getattr(obj, field)))


def email_column(field: str, description: str, *, sortable: bool = True):
    """The user in ``field``, by email, linking to their page."""
    return admin.display(description=description, ordering=f"{field}__email" if sortable else None)(
        lambda self, obj: email_link(getattr(obj, field)))


ACCOUNT_NUMBER = re.compile(r"\d{12}")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def id_column():
    """The object's id, shortened."""
    return admin.display(description="ID")(lambda self, obj: short_id(obj.pk))


def url_with(name: str, **query) -> str:
    return f"{reverse(name)}?{urlencode(query)}"


def refusal(exc: exceptions.DomainError) -> str:
    """A service's refusal in words a teller can act on, with its figures."""
    details = "; ".join(
        f"{key.replace('_', ' ')}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in exc.details.items()
    )
    return f"{exc.message} ({details})" if details else exc.message


def held_for_approval(model_admin, request, outcome, what: str):
    """The answer of a deposit or reversal page when dual control holds the command (202)."""
    approval = outcome.result
    if not outcome.replayed:
        model_admin.log_addition(request, approval, f"Requested: {approval}")
    messages.warning(request, f"{what} waits for a supervisor's approval (request {str(approval.pk)[:8]}); "
                              "no money has moved yet.")
    return HttpResponseRedirect(change_url(approval))


class OneAccountFilter(admin.SimpleListFilter):
    """Narrow a list to one account (the links on an account's page). Shown only while in use."""

    title = "account"
    parameter_name = "account"
    fields: tuple[str, ...] = ()

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        match = Q()
        for field in self.fields:
            match |= Q(**{field: value})
        return queryset.filter(match)


class TransactionAccountFilter(OneAccountFilter):
    fields = ("sender_account", "receiver_account")


class LedgerAccountFilter(OneAccountFilter):
    fields = ("account",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; staff can look, never edit or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- an account's shortcuts (its records, the deposit desk) ----------------------------------------

def can_deposit_to(viewer, account) -> bool:
    """Whether the deposit desk is offered for ``account``: a customer's active account, to a viewer who may
    deposit and does not own it (v1.3: nothing of one's own). Anything else the desk would refuse."""
    return (not account.is_house and account.is_active and may(viewer, Power.DEPOSIT)
            and not is_own(viewer, owner_ids=[account.owner_id]))


def account_shortcuts(account, viewer=None) -> str:
    """The account's records, and the deposit desk where ``viewer`` may use it (:func:`can_deposit_to`);
    without a viewer, the records only."""
    links = [
        page_link(Transaction, url_with("admin:api_transaction_changelist", account=account.pk), "Transactions"),
        page_link(LedgerEntry, url_with("admin:api_ledgerentry_changelist", account=account.pk), "Statement"),
    ]
    if viewer is not None and can_deposit_to(viewer, account):
        links.append(format_html('<a href="{}">Deposit</a>', url_with("admin:api_account_deposit", account=account.pk)))
    return format_html('<span class="nx-links">{}</span>', format_html_join(" · ", "{}", ((item,) for item in links)))


def reason_field(help_text: str) -> forms.CharField:
    """The reason staff give before acting: required, so blank (after trimming) is refused."""
    return forms.CharField(label="Reason", max_length=255, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           help_text=help_text)
