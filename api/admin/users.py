"""Users: customers and staff, their accounts, standing orders, security and notifications; blocking and ending sessions with a reason."""


from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from .. import exceptions, selectors
from ..admin_site import StaffSetPasswordForm
from ..locks import lock_user
from ..models import (
    Account,
    Notification,
    StandingOrder,
    Transaction,
    User,
)
from ..roles import Power, may
from ..services import users
from ..services.accounts import password_reset_recorded as user_password_reset_recorded
from ..services.accounts import (
    user_snapshot,
    user_update_recorded,
)
from .display import (
    account_party,
    account_shortcuts,
    amount,
    change_url,
    id_link,
    link,
    page_link,
    reason_field,
    refusal,
    time_column,
    url_with,
    when,
)

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
USER_ACTION_PERMISSION = {"block": Power.BLOCK_USER, "unblock": Power.BLOCK_USER, "revoke": Power.BLOCK_USER,
                          "reset2fa": Power.RESET_TWO_FACTOR}


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
        request._audit_user_before = user_snapshot(selectors.user_by_pk(obj.pk))
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
        extra = {"can_control_user": reachable and may(request.user, Power.BLOCK_USER),
                 "can_reset_2fa": reachable and may(request.user, USER_ACTION_PERMISSION["reset2fa"])
                 and selectors.two_factor_enabled(user),  # 2FA on: something to reset
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
            user_password_reset_recorded(actor=request.user, user=selectors.user_by_pk(id))
        return response

    def control_view(self, request, object_id, action):
        if action not in USER_ACTIONS or not may(request.user, USER_ACTION_PERMISSION[action]):
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
        if action == "reset2fa" and not selectors.two_factor_enabled(user):
            return f"{who(user)} has no two-factor authentication to reset."
        return ""

    @staticmethod
    def also_happens(action: str, user) -> list[str]:
        """What else blocking does to this user: a customer's money stays; a staff member's requests waiting
        for approval are cancelled (api.services.approvals.cancel_pending_of), said with their number."""
        if action != "block":
            return []
        said = [] if user.is_staff and not user.accounts.exists() else ["Their money stays where it is."]
        pending = selectors.pending_requests_of(user)
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
        orders = selectors.standing_orders_with_latest_run(obj) if obj.pk else []
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
