"""The back office: readable lists, links between related records, deposit and reversal pages.

Money moves only through the services the API calls (``deposit``, ``reverse``), under the same
idempotency mechanism, so a double click on "Confirm" moves money once.
"""

import re
import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from nexus.admin_request import current_admin_request

from . import bounds, exceptions, money
from .admin_site import StaffSetPasswordForm
from .bankday import bank_day
from .idempotency import KEY_PATTERN, run_money_request
from .locks import lock_user
from .models import (
    Account,
    Approval,
    Biller,
    BillPayment,
    Card,
    FxRate,
    IdempotencyRecord,
    LedgerEntry,
    Notification,
    StandingOrder,
    StandingOrderRun,
    Transaction,
    TwoFactor,
    User,
)
from .services import approvals, users
from .services.accounts import (
    FREEZE,
    LIMIT,
    UNFREEZE,
    account_update,
    group_deleted_recorded,
    group_permissions,
    group_update_recorded,
    user_snapshot,
    user_update_recorded,
)
from .services.accounts import password_reset_recorded as user_password_reset_recorded
from .services.conflicts import is_own
from .services.fx import fx_rate_publish

# What the custom pages ask of a staff user: the same permissions as the API (api.roles).
DEPOSIT_PERMISSION = "api.make_deposit"
REVERSE_PERMISSION = "api.request_reversal"
DECIDE_PERMISSION = "api.decide_approval"
BLOCK_PERMISSION = "api.block_user"


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


def held_for_approval(model_admin, request, response, what: str):
    """The answer of a deposit or reversal page when dual control holds the command (202)."""
    approval = Approval.objects.get(pk=response.data["approval_id"])
    if not response.has_header("Idempotent-Replayed"):
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


# --- customers ---------------------------------------------------------------------------------

class BlockedFilter(admin.SimpleListFilter):
    title = "blocked"
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("yes", "Blocked"), ("no", "Not blocked")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(blocked_at__isnull=self.value() == "no")
        return queryset


def reason_field(help_text: str) -> forms.CharField:
    """The reason staff give before acting: required, so blank (after trimming) is refused."""
    return forms.CharField(label="Reason", max_length=255, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           help_text=help_text)


class UserControlForm(forms.Form):
    reason = reason_field("Kept in the audit trail.")


# The staff pages acting on a user (contract v1.2), all under api.block_user like the API: the title
# ({who} is the user's name and email), the button, what follows, and the log entry's words.
USER_ACTIONS = {
    "block": ("Block {who}", "Block now",
              "The user can no longer log in, and every session (app, API, open notification stream, back office) "
              "ends at once.", "Blocked"),
    "unblock": ("Unblock {who}", "Unblock now",
                "The user may log in again. Sessions from before the block stay ended.", "Unblocked"),
    "revoke": ("End every session of {who}", "End sessions now",
               "Every token, back-office session and open notification stream of the user stops working at once; "
               "they may log in again with their password.", "Ended every session"),
    "reset2fa": ("Reset the two-factor authentication of {who}", "Reset 2FA now",
                 "Their authenticator and recovery codes stop working and every session ends; they log in with "
                 "their password alone and set up an authenticator again.", "Reset two-factor authentication"),
}
# Who may do which: resetting 2FA is a Supervisor's (api.reset_twofactor), the others a blocker's.
USER_ACTION_PERMISSION = {"block": "api.block_user", "unblock": "api.block_user", "revoke": "api.block_user",
                          "reset2fa": "api.reset_twofactor"}


def who(user) -> str:
    """``Alice Haddad (alice@example.com)``, or the email alone for a user without a name."""
    name = user.get_full_name()
    return f"{name} ({user.email})" if name else user.email


def notification_text(notification) -> str:
    """What the customer was told: the title only where it says more than the kind, then the body (its
    amount and account)."""
    title, body = notification.title, notification.body
    if title.casefold() == notification.get_kind_display().casefold():
        return body or title
    return f"{title}: {body}" if body else title


def notification_links(notification) -> str:
    """The account and the transaction a notification is about (ids from its data; no query)."""
    data = notification.data if isinstance(notification.data, dict) else {}
    links = []
    if data.get("account"):
        links.append(page_link(Account, reverse("admin:api_account_change", args=[data["account"]]), data["account"]))
    if data.get("transaction_id"):
        links.append(page_link(Transaction, reverse("admin:api_transaction_change", args=[data["transaction_id"]]),
                               f"transaction {data['transaction_id'][:8]}", title=data["transaction_id"], css="nx-id"))
    return format_html_join(" · ", "{}", ((item,) for item in links)) if links else "—"


def read_state(notification) -> str:
    return format_html("Read {}", when(notification.read_at)) if notification.read_at else "Unread"


def blocked_since(user) -> str:
    """A blocked user in red with the day of the block; "—" for everyone else."""
    if user.blocked_at is None:
        return "—"
    return format_html('<span class="nx-alert">Blocked since {}</span>', f"{timezone.localtime(user.blocked_at):%Y-%m-%d}")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = StaffSetPasswordForm
    change_form_template = "admin/api/user/change_form.html"
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "country", "is_staff", "two_factor_cell", "blocked_cell",
                    "joined"]
    list_filter = ["is_staff", "is_active", BlockedFilter, "country"]
    list_select_related = ["two_factor"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "country"]}),
        ("Accounts", {"fields": ["accounts_summary"]}),
        ("Standing orders", {"fields": ["standing_orders_summary"]}),
        ("Security", {"fields": ["two_factor_status", "blocked_status"]}),
        ("Notifications", {"fields": ["notifications_summary"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_seen", "joined"]}),
    ]
    # Records of what happened, not inputs.
    readonly_fields = ["accounts_summary", "standing_orders_summary", "two_factor_status", "blocked_status",
                       "notifications_summary", "last_seen", "joined", "active_state"]
    NOTIFICATIONS_SHOWN = 20
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out staff status and roles.
        extra = [] if request.user.is_superuser else ["is_staff", "is_superuser", "groups", "user_permissions"]
        return [*super().get_readonly_fields(request, obj), *extra]

    def save_model(self, request, obj, form, change):
        # Staff and active flags and roles are audited (contract v1.1) once the groups are saved too.
        if not change:
            request._audit_user_before = None
            super().save_model(request, obj, form, change)
            return
        # Only what the form changed, under the user's row lock: a full save() would write back every column
        # as read when the page was posted, undoing a block, a password change or the step-up running total
        # committed meanwhile (an outside audit did it by racing the form against them).
        lock_user(obj.pk)
        request._audit_user_before = user_snapshot(User.objects.get(pk=obj.pk))
        columns = {field.name for field in User._meta.concrete_fields if field.editable}
        changed = [name for name in form.changed_data if name in columns and name != "password"]
        if changed:
            obj.save(update_fields=changed)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_audit_user_before", None)
        if before is not None:
            user_update_recorded(actor=request.user, user=form.instance, before=before)

    joined = time_column("date_joined", "Joined")

    @admin.display(description="Last login")
    def last_seen(self, obj):
        return when(obj.last_login)

    @staticmethod
    def _two_factor(obj):
        device = getattr(obj, "two_factor", None) if obj.pk else None
        return device if device is not None and device.confirmed_at is not None else None

    @admin.display(description="2FA", boolean=True)
    def two_factor_cell(self, obj):
        return self._two_factor(obj) is not None

    @admin.display(description="State", ordering="blocked_at")
    def blocked_cell(self, obj):
        """Whether the user can log in, in one column: a blocked user is never shown as "Active ✓"."""
        if obj.blocked_at is not None:
            return blocked_since(obj)
        return "Active" if obj.is_active else format_html('<span class="nx-alert">Deactivated</span>')

    @admin.display(description="Active")
    def active_state(self, obj):
        """Django's "Active" tick and its help text, in words that count a block too."""
        if not obj.is_active:
            return "No: deactivated, cannot log in."
        if obj.blocked_at is not None:
            return format_html('Not deactivated, but <span class="nx-alert">{}</span>: cannot log in until someone '
                               "unblocks them (see Blocked above).", "blocked")
        return "Yes: may log in."

    ACTIVE_HELP = ("Untick to deactivate the user for good: they cannot log in, every session ends and their "
                   "requests waiting for approval are cancelled. Blocking is the Block button above.")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        field = form.base_fields.get("is_active")
        if field is not None:
            field.help_text = self.ACTIVE_HELP + (
                " This user is blocked now: they cannot log in whatever this box says." if obj and obj.blocked_at else "")
        return form

    @admin.display(description="Two-factor authentication")
    def two_factor_status(self, obj):
        device = self._two_factor(obj)
        if device is None:
            if not obj.is_staff:
                return "Off: large payments are refused until the customer turns it on."
            owns = obj.pk is not None and obj.accounts.exists()
            return ("Off: this staff member logs in to the back office and the API with the password alone"
                    + ("; large payments from their own accounts are refused until they turn it on." if owns else "."))
        left = obj.recovery_codes.filter(used_at__isnull=True).count() if obj.pk else 0
        return format_html("On since {} ({} of 10 recovery codes unused)", when(device.confirmed_at), left)

    @admin.display(description="Blocked")
    def blocked_status(self, obj):
        if obj.blocked_at is None:
            return "Not blocked"
        return format_html('<span class="nx-alert">Blocked since {}</span>: {}', when(obj.blocked_at),
                           obj.blocked_reason or "no reason given")

    @admin.display(description="Latest notifications")
    def notifications_summary(self, obj):
        rows = list(obj.notifications.order_by("-created_at", "-id")[:self.NOTIFICATIONS_SHOWN]) if obj.pk else []
        if not rows:
            return "None."
        cells = format_html_join(
            "", '<tr><td>{}</td><td class="nx-nowrap">{}</td><td>{}</td><td class="nx-nowrap">{}</td><td>{}</td></tr>',
            ((when(n.created_at), n.get_kind_display(), notification_text(n), notification_links(n), read_state(n))
             for n in rows))
        more = format_html("<p>{}</p>", page_link(Notification, url_with("admin:api_notification_changelist",
                                                                         user__id__exact=obj.pk), "All notifications"))
        return format_html('<table class="nx-table" id="notifications-table"><thead><tr><th>Time (Amman)</th>'
                           "<th>Kind</th><th>What happened</th><th>About</th><th>Read</th></tr></thead>"
                           "<tbody>{}</tbody></table>{}", cells, more)

    # Blocking, unblocking and ending sessions: a reason, a confirmation, then the API's own service.

    def get_urls(self):
        return [path("<uuid:object_id>/<str:action>/control/", self.admin_site.admin_view(self.control_view),
                     name="api_user_control"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Only what this role may do to this user: never to oneself (the template), never upwards.
        user = self.get_object(request, object_id)
        reachable = user is not None and not users.outranks(user, request.user)
        extra = {"can_control_user": reachable and request.user.has_perm(BLOCK_PERMISSION),
                 "can_reset_2fa": reachable and request.user.has_perm(USER_ACTION_PERMISSION["reset2fa"])
                 and TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists(),  # 2FA on: something to reset
                 **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # The password's hash details and its "Reset password" link only for who may set one; the state in
        # words rather than Django's read-only tick and its help text (a blocked user is not "Active ✓").
        shown = {"password": [], "is_active": ["active_state"]}
        return [(name, {**options, "fields": [new for field in options["fields"] for new in shown.get(field, [field])]})
                for name, options in fieldsets]

    def has_delete_permission(self, request, obj=None):
        return False  # v1.3: users are never deleted, only deactivated (evidence is never lost)

    @transaction.atomic
    def user_change_password(self, request, id, form_url=""):
        """Staff setting a user's password (the form revokes their tokens): audited as ``password_reset``,
        in the same transaction."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user_password_reset_recorded(actor=request.user, user=User.objects.get(pk=id))
        return response

    def control_view(self, request, object_id, action):
        if action not in USER_ACTIONS or not request.user.has_perm(USER_ACTION_PERMISSION[action]):
            raise PermissionDenied
        user = self.get_object(request, str(object_id))
        if user is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        nothing = self.nothing_to_do(action, user)
        if nothing:  # reached by Back or a bookmark once done: the state, not a form that changes nothing
            messages.info(request, f"Nothing to do: {nothing}")
            return HttpResponseRedirect(change_url(user))
        title, button, consequence, done = USER_ACTIONS[action]
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": user,
                   "title": title.format(who=who(user)), "who": who(user), "action": action, "button": button,
                   "consequence": " ".join([consequence, *self.also_happens(action, user)])}
        form = UserControlForm(request.POST if request.method == "POST" else None)
        if request.method != "POST" or not form.is_valid() or "edit" in request.POST:
            return TemplateResponse(request, "admin/api/user/control.html", {**context, "form": form})
        if "confirm" not in request.POST:
            return TemplateResponse(request, "admin/api/user/control_confirm.html", {**context, "form": form})
        reason = form.cleaned_data["reason"]
        service = {"block": users.user_block, "unblock": users.user_unblock, "revoke": users.user_revoke_sessions,
                   "reset2fa": users.user_reset_2fa}
        try:
            service[action](actor=request.user, user_id=user.pk, reason=reason)
        except exceptions.DomainError as exc:
            messages.error(request, f"Not done: {refusal(exc)}")
            return HttpResponseRedirect(change_url(user))
        self.log_change(request, user, f"{done}: {reason}")
        messages.success(request, f"{done}: {who(user)}.")
        return HttpResponseRedirect(change_url(user))

    @staticmethod
    def nothing_to_do(action: str, user) -> str:
        """Why ``action`` would change nothing for ``user`` now, or "" if it would."""
        if action == "block" and user.blocked_at is not None:
            return f"{who(user)} is already blocked (since {timezone.localtime(user.blocked_at):%Y-%m-%d %H:%M})."
        if action == "unblock" and user.blocked_at is None:
            return f"{who(user)} is not blocked."
        if action == "reset2fa" and not TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists():
            return f"{who(user)} has no two-factor authentication to reset."
        return ""

    @staticmethod
    def also_happens(action: str, user) -> list[str]:
        """What else blocking does to this user: a customer's money stays; a staff member's requests waiting
        for approval are cancelled (api.services.approvals.cancel_pending_of), said with their number."""
        if action != "block":
            return []
        said = [] if user.is_staff and not user.accounts.exists() else ["Their money stays where it is."]
        pending = Approval.objects.filter(requested_by=user, status=Approval.Status.PENDING).count()
        if pending:
            said.append(ngettext("Their %(count)d request waiting for approval is cancelled: nobody can approve it "
                                 "any more, and it stays cancelled after an unblock.",
                                 "Their %(count)d requests waiting for approval are cancelled: nobody can approve "
                                 "them any more, and they stay cancelled after an unblock.", pending)
                        % {"count": pending})
        return said

    @admin.display(description="Accounts")
    def accounts_summary(self, obj):
        accounts = list(obj.accounts.order_by("created_at")) if obj.pk else []
        if not accounts:
            return "No account."
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((link(account, account.account_number), account.get_type_display(),
              amount(account.balance, account.currency), "active" if account.is_active else "frozen",
              account_shortcuts(account)) for account in accounts),
        )
        return format_html('<table class="nx-table"><thead><tr><th>Number</th><th>Type</th><th>Balance</th>'
                           "<th>State</th><th></th></tr></thead><tbody>{}</tbody></table>", rows)

    @admin.display(description="Standing orders")
    def standing_orders_summary(self, obj):
        """The customer's orders, active first, each with its latest run (contract v1.3)."""
        orders = list(obj.standing_orders.select_related("receiver_account").order_by("status", "-created_at")
                      .prefetch_related(Prefetch("runs", queryset=StandingOrderRun.objects.order_by("-run_on")[:1],
                                                 to_attr="latest"))) if obj.pk else []
        if not orders:
            return "None."

        def latest(order):
            if not order.latest:
                return "—"
            run = order.latest[0]
            return f"{run.run_on}: {run.status}" + (f" ({run.error_code})" if run.error_code else "")

        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((id_link(order), order.sender_account_id, account_party(order.receiver_account),
              amount(order.amount, order.currency), order.get_interval_display(), order.get_status_display()
              + (f", next {order.next_run_on}" if order.next_run_on else ""), latest(order)) for order in orders))
        more = format_html("<p>{}</p>", page_link(StandingOrder, url_with("admin:api_standingorder_changelist",
                                                                          owner__id__exact=obj.pk), "Orders and their runs"))
        return format_html('<table class="nx-table" id="standing-orders-table"><thead><tr><th>Order</th><th>From</th>'
                           "<th>To</th><th>Amount</th><th>Every</th><th>State</th><th>Latest run</th></tr></thead>"
                           "<tbody>{}</tbody></table>{}", rows, more)


# --- accounts ----------------------------------------------------------------------------------

def can_deposit_to(viewer, account) -> bool:
    """Whether the deposit desk is offered for ``account``: a customer's active account, to a viewer who may
    deposit and does not own it (v1.3: nothing of one's own). Anything else the desk would refuse."""
    return (not account.is_house and account.is_active and viewer.has_perm(DEPOSIT_PERMISSION)
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
        customers = Account.objects.filter(role=Account.Role.CUSTOMER).select_related("owner")
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
                    if Account.objects.filter(pk=value).exists() else f"No customer has an account numbered {value}.")
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


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    EDITABLE = ["daily_limit", "is_active"]
    form = AccountForm

    list_display = ["account_number", "owner_email", "kind", "balance_display", "limit_display", "is_active",
                    "shortcuts"]
    list_filter = ["role", "type", "currency", "is_active"]
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
    POWERS = {"is_active": (FREEZE, UNFREEZE), "daily_limit": (LIMIT,)}  # the service's own permissions

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_house or is_own(request.user, owner_ids=[obj.owner_id])):
            return False
        return any(request.user.has_perm(perm) for perms in self.POWERS.values() for perm in perms)

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
        return request.user.has_perm(FREEZE)

    def has_unfreeze_permission(self, request):
        return request.user.has_perm(UNFREEZE)

    def get_fieldsets(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return self.fieldsets
        money, *rest = self.fieldsets[1:]
        return [self.fieldsets[0], (money[0], {"fields": [*money[1]["fields"], "reason"]}), *rest]

    def get_readonly_fields(self, request, obj=None):
        locked = [name for name, perms in self.POWERS.items() if not any(request.user.has_perm(p) for p in perms)]
        # The one way the box can go for this account: a role that may freeze but not unfreeze (a Teller)
        # sees a frozen account's state, not a box it cannot untick.
        if obj is not None and not request.user.has_perm(UNFREEZE if not obj.is_active else FREEZE):
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
        if not request.user.has_perm(DEPOSIT_PERMISSION):
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

        def operation(key):
            result = approvals.staff_deposit(staff=request.user, account_number=account.pk, amount=data["amount"],
                                             description=description, idempotency_key=key)
            if isinstance(result, Approval):
                return 202, {"approval_id": str(result.pk)}
            return 201, {"id": str(result.pk)}

        try:
            response = run_money_request(
                request, scope=f"deposit:{account.pk}", payload={"amount": data["amount"], "description": description},
                key=key_form.cleaned_data["idempotency_key"], operation=operation, kind=Transaction.Kind.DEPOSIT,
                account=account.pk,
            )
        except exceptions.DomainError as exc:
            form.add_error(None, f"Not deposited: {refusal(exc)}")
            return self._deposit_page(request, context, form)
        if response.status_code == 202:
            return held_for_approval(self, request, response, f"The deposit of {money_text(data['amount'], account.currency)} "
                                                               f"to {account.pk}")
        txn = Transaction.objects.get(pk=response.data["id"])
        if not response.has_header("Idempotent-Replayed"):
            self.log_addition(request, txn, f"Cash deposit of {money_text(txn.amount, txn.currency)} to {account.pk}: "
                                            f"{description}")
        messages.success(request, f"Deposited {money_text(txn.amount, txn.currency)} to {account.pk} "
                                  f"({account.owner.email}). New balance: "
                                  f"{money_text(txn.receiver_balance_after, txn.currency)}.")
        return HttpResponseRedirect(change_url(txn))

    def _deposit_page(self, request, context, form):
        return TemplateResponse(request, "admin/api/account/deposit.html", {**context, "form": form})


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
        pending = Approval.objects.filter(target_transaction=obj, status=Approval.Status.PENDING).first()
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
                and not Approval.objects.filter(target_transaction=txn, status=Approval.Status.PENDING).exists())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {"can_reverse": obj is not None and self.reversible(obj) and request.user.has_perm(REVERSE_PERMISSION)
                 and not is_own(request.user, owner_ids=[obj.sender_account.owner_id, obj.receiver_account.owner_id]),
                 **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def reverse_view(self, request, object_id):
        if not request.user.has_perm(REVERSE_PERMISSION):
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

        def operation(key):
            result = approvals.staff_reversal(staff=request.user, transaction_id=txn.pk, reason=reason,
                                              idempotency_key=key)
            if isinstance(result, Approval):
                return 202, {"approval_id": str(result.pk)}
            return 201, {"id": str(result.pk)}

        try:
            response = run_money_request(request, scope=f"reverse:{txn.pk}", payload={"reason": reason},
                                         key=key_form.cleaned_data["idempotency_key"], operation=operation,
                                         kind=Transaction.Kind.REVERSAL)
        except exceptions.DomainError as exc:
            messages.error(request, f"Not reversed: {refusal(exc)}")
            return HttpResponseRedirect(change_url(txn))
        if response.status_code == 202:
            return held_for_approval(self, request, response, f"The reversal of {str(txn.pk)[:8]}")
        compensating = Transaction.objects.get(pk=response.data["id"])
        if not response.has_header("Idempotent-Replayed"):
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
        account = Account.objects.select_related("owner").filter(pk=number).first() if number else None
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
    exclude = ["response_body"]

    user_email = email_column("user", "User")
    created = time_column("created_at")


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
                and user.has_perm(DECIDE_PERMISSION) and not is_own(user, owner_ids=owners))

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
        if not request.user.has_perm(DECIDE_PERMISSION):
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
                    if user.has_perm(DECIDE_PERMISSION) else "Your role does not approve or reject requests.")
        if approval.status == Approval.Status.CANCELLED:
            return format_html("Cancelled on {}: {}", when(approval.decided_at),
                               approval.decision_reason or "the requester was blocked or deactivated.")
        made = format_html("; transaction made: {}", id_link(approval.result)) if approval.result_id else ""
        reason = format_html(": {}", approval.decision_reason) if approval.decision_reason else ""
        return format_html("Already {} by {} on {}{}{}. Nothing more to decide.",
                           approval.get_status_display().lower(), email_link(approval.decided_by),
                           when(approval.decided_at), reason, made)


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
        self.delete_queryset(request, Group.objects.filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        """Deleting a role takes its permissions from every member: audited as ``role_change`` too."""
        for group in queryset:
            group_deleted_recorded(actor=request.user, group=group)
        super().delete_queryset(request, queryset)


# The audit trail's and the standing orders' pages, which use the helpers above.
from . import admin_audit, admin_standing  # noqa: E402, F401
