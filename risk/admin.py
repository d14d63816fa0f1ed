import json
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from api import selectors
from api.admin import (
    change_url,
    email_column,
    email_link,
    id_column,
    page_link,
    reason_field,
    refusal,
    time_column,
    when,
)
from api.exceptions import BlacklistRefused, DomainError
from api.models import Transaction
from api.roles import Power, may
from nexus.client_ip import client_ip, normalize_network

from . import services
from .models import BlockedIP, Incident, LoginEvent, LoginLockout

# A status change is a change of the incident (Risk analyst, api.roles).
# Unlocking a login lockout (Risk analyst, Supervisor); seeing them, also whoever sees axes' access attempts.
SEE_LOCKOUTS = (Power.VIEW_LOCKOUTS, Power.VIEW_ACCESS_ATTEMPTS)
# Statuses only move forward: acknowledging a resolved incident would reopen it by mistake.
STATUS_ORDER = [Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED, Incident.Status.RESOLVED]
TARGETS = {"acknowledge": Incident.Status.ACKNOWLEDGED, "resolve": Incident.Status.RESOLVED}
BUTTONS = {"acknowledge": "Acknowledge", "resolve": "Resolve"}  # what the buttons do, not the state they reach


class StatusNoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
                           help_text="What was checked and decided. Kept on the incident with your name and the time.")


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def details_display(incident) -> str:
    """An incident's details as labelled lines; a transaction id links to the transaction."""
    if not incident.details:
        return "—"

    def value_html(key, value):
        if key == "transaction_id" and _is_uuid(value):
            return page_link(Transaction, reverse("admin:api_transaction_change", args=[value]), value)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    rows = ((key.replace("_", " ").capitalize(), value_html(key, value)) for key, value in incident.details.items())
    return format_html('<dl class="nx-details">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["time", "severity", "event", "status", "subject_cell", "ip", "country", "short"]
    list_filter = ["status", "severity", "code", "timestamp"]
    search_fields = ["subject", "ip", "user__email", "code"]
    search_help_text = "User email, IP address, subject or rule code."
    date_hierarchy = "timestamp"
    fieldsets = [
        (None, {"fields": ["event", "code", "severity", "time", "user_cell", "ip", "country", "subject"]}),
        ("Details", {"fields": ["details_html"]}),
        ("Handling", {"fields": ["status", "note_html", "status_changed_by_cell", "status_changed"]}),
    ]
    readonly_fields = ["event", "code", "severity", "time", "user_cell", "ip", "country", "subject", "details_html",
                       "status", "note_html", "status_changed_by_cell", "status_changed"]
    actions = ["acknowledge", "resolve"]

    def get_queryset(self, request):
        # The admin skips list_select_related once a select_related is set here.
        return super().get_queryset(request).select_related("user", "status_changed_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # evidence: kept whatever its status, not even a superuser deletes one (nor the database)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not may(request.user, Power.HANDLE_INCIDENT):
            for name in TARGETS:
                actions.pop(name, None)
        return actions

    time = time_column("timestamp")
    short = id_column()

    @staticmethod
    def subject_user(incident):
        """The user the incident is about: its own, else the one its subject's email names (a brute force on
        an email is about that user, whoever guessed)."""
        email = incident.user.email if incident.user_id else (incident.subject if "@" in incident.subject else "")
        return incident.user or selectors.user_by_email(email), email

    @admin.display(description="User")
    def user_cell(self, obj):
        user, _ = self.subject_user(obj)
        if user is None or obj.user_id:
            return email_link(user)
        return format_html("{} (the email its subject names)", email_link(user))

    @admin.display(description="About", ordering="subject")
    def subject_cell(self, obj):
        """Whom or what the incident is about: the user (linked), else its subject (an email, an IP)."""
        if obj.user_id:
            return email_link(obj.user)
        return obj.subject or "—"  # an email that matches no user, or an address

    @staticmethod
    def subject_tools(incident, user) -> list[tuple[str, str]]:
        """Links to act on what the incident is about, for a viewer who may follow them."""
        tools = []
        subject, email = IncidentAdmin.subject_user(incident)
        if subject is not None and may(user, Power.VIEW_USERS):
            # What the user's page offers this viewer: a role that cannot block reads it only.
            can_act = may(user, Power.BLOCK_USER)
            tools.append((change_url(subject), "Open the user (block, end sessions)" if can_act else "Open the user"))
        if email and may(user, Power.VIEW_LOCKOUTS):
            tools.append((reverse("admin:risk_loginlockout_changelist") + f"?q={email}", "Login lockouts"))
        if incident.ip and may(user, Power.BLOCK_IP) and services.blacklist_refusal(
                normalize_network(incident.ip)) is None:  # never offer what the guard refuses
            tools.append((reverse("admin:risk_blockedip_add") + f"?cidr={incident.ip}", "Block this IP…"))
        return tools

    @admin.display(description="Details")
    def details_html(self, obj):
        return details_display(obj)

    @admin.display(description="Notes")
    def note_html(self, obj):
        return format_html('<div class="nx-note">{}</div>', obj.note) if obj.note else "—"

    status_changed_by_cell = email_column("status_changed_by", "Status changed by", sortable=False)
    status_changed = time_column("status_changed_at", "Status changed (Amman)", sortable=False)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            who = obj.user.email if obj.user else obj.subject
            extra.update(
                title="Incident", subtitle=f"{obj.event} — {who}", subject_tools=self.subject_tools(obj, request.user),
                status_targets=[(name, BUTTONS[name]) for name, target in TARGETS.items()
                                if self._moves_forward(obj, target)] if may(request.user, Power.HANDLE_INCIDENT) else [],
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @staticmethod
    def _moves_forward(incident, target) -> bool:
        return STATUS_ORDER.index(incident.status) < STATUS_ORDER.index(target)

    # A status change always carries a note: the bulk actions and the buttons on an incident's page
    # both ask for it on an intermediate page, then call risk.services.set_incident_status.

    def get_urls(self):
        return [path("<uuid:object_id>/status/<str:action>/", self.admin_site.admin_view(self.status_view),
                     name="risk_incident_status"),
                *super().get_urls()]

    def status_view(self, request, object_id, action):
        if action not in TARGETS:
            return HttpResponseRedirect(reverse("admin:risk_incident_change", args=[object_id]))
        if not may(request.user, Power.HANDLE_INCIDENT):
            raise PermissionDenied
        incident = self.get_object(request, object_id)
        if incident is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        done = self._change_status(request, [incident], action)
        return done or HttpResponseRedirect(change_url(incident))

    @admin.action(description="Acknowledge selected incidents (asks for a note)")
    def acknowledge(self, request, queryset):
        return self._change_status(request, list(queryset), "acknowledge", bulk=True)

    @admin.action(description="Resolve selected incidents (asks for a note)")
    def resolve(self, request, queryset):
        return self._change_status(request, list(queryset), "resolve", bulk=True)

    def _change_status(self, request, incidents, action, *, bulk=False):
        """The note page (a response) until a note is posted; then apply and return None."""
        target = TARGETS[action]
        form = StatusNoteForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(request, "admin/risk/incident/status.html", {
                **self.admin_site.each_context(request), "opts": self.opts, "form": form, "action": action,
                "target": target.label, "verb": BUTTONS[action], "incidents": incidents, "bulk": bulk,
                "title": f"{BUTTONS[action]}: add a note",
                "skipped": [incident for incident in incidents if not self._moves_forward(incident, target)],
            })
        note = form.cleaned_data["note"]
        changed = 0
        for incident in incidents:
            if not self._moves_forward(incident, target):
                continue
            before = incident.get_status_display()
            services.set_incident_status(incident=incident, status=target, note=note, by=request.user)
            self.log_change(request, incident, f"Status {before} → {target.label}. Note: {note}")
            changed += 1
        self.message_user(request, ngettext("%(count)d incident marked %(status)s.", "%(count)d incidents marked %(status)s.",
                                            changed) % {"count": changed, "status": target.label.lower()})
        skipped = len(incidents) - changed
        if skipped:
            self.message_user(request, ngettext("%(count)d incident left as it was: already %(status)s or further on.",
                                                "%(count)d incidents left as they were: already %(status)s or further on.",
                                                skipped) % {"count": skipped, "status": target.label.lower()},
                              level=messages.WARNING)
        return None


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    list_display = ["time", "attempted_email", "successful", "ip", "country", "user_cell"]
    list_filter = ["successful", "country", "timestamp"]
    list_select_related = ["user"]
    search_fields = ["attempted_email", "ip"]
    search_help_text = "Email tried or IP address."
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # evidence: never deleted, not even by a superuser (and the database refuses it)

    time = time_column("timestamp")
    user_cell = email_column("user", "User")


class BlockedIPForm(forms.ModelForm):
    requester_ip = None  # set per request by BlockedIPAdmin.get_form

    class Meta:
        model = BlockedIP
        fields = ["cidr", "reason"]

    def clean_cidr(self):
        # The service's own rule (risk.services.check_blacklist_entry): a refusal shows on the form, says why.
        try:
            return services.check_blacklist_entry(self.cleaned_data["cidr"], requester_ip=self.requester_ip)
        except ValueError as exc:
            raise forms.ValidationError("An IP address or CIDR range, e.g. 203.0.113.0/24.") from exc
        except BlacklistRefused as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


@admin.register(BlockedIP)
class BlockedIPAdmin(admin.ModelAdmin):
    form = BlockedIPForm
    list_display = ["cidr", "reason", "created_by_cell", "created"]
    list_select_related = ["created_by"]
    search_fields = ["cidr", "reason"]

    def has_change_permission(self, request, obj=None):
        return False  # an entry is added or removed (both audited), never edited

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"requester_ip": client_ip(request)})

    def save_model(self, request, obj, form, change):
        blocked = services.block_ip(cidr=obj.cidr, reason=obj.reason, created_by=request.user,
                                    requester_ip=client_ip(request))
        obj.pk, obj.created_by, obj.created_at = blocked.pk, blocked.created_by, blocked.created_at

    def delete_model(self, request, obj):
        services.unblock_ip(blocked=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for blocked in queryset:
            services.unblock_ip(blocked=blocked, by=request.user)

    created_by_cell = email_column("created_by", "Blocked by", sortable=False)
    created = time_column("created_at", "Since (Amman)")


class UnlockForm(forms.Form):
    reason = reason_field("Why the lockout ends early (e.g. the customer called and was identified). Kept in the "
                          "audit trail.")


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """The (email, IP) pairs locked out now, each with an Unlock button: a reason, a confirmation, then
    risk.services.lockout_unlock (audited). django-axes' own admin, which deleted rows unaudited, is off
    (AXES_ENABLE_ADMIN)."""

    list_display = ["email", "ip_address", "failures_since_start", "last_failure", "until"]
    list_display_links = None
    search_fields = ["username", "ip_address"]
    search_help_text = "Email or IP address."
    ordering = ["-attempt_time"]
    actions = None

    def get_queryset(self, request):
        return services.current_lockouts()

    def get_list_display(self, request):
        """Unlock for who may unlock, on every lockout but one of their own email (the service refuses it)."""
        @admin.display(description="")
        def unlock_button(obj):
            return "—" if obj.username == request.user.email.lower() else self.unlock_button(obj)

        unlock = [unlock_button] if may(request.user, Power.UNLOCK_LOGIN) else []
        return [*self.list_display, *unlock]

    def has_view_permission(self, request, obj=None):
        return any(may(request.user, name) for name in SEE_LOCKOUTS)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # unlocking is the Unlock button: audited, with a reason

    @admin.display(description="Email", ordering="username")
    def email(self, obj):
        return obj.username

    last_failure = time_column("attempt_time", "Last failure (Amman)")

    @admin.display(description="Locked until (Amman)")
    def until(self, obj):
        return when(services.locked_until(obj))

    @admin.display(description="")
    def unlock_button(self, obj):
        return format_html('<a class="button" href="{}">Unlock…</a>',
                           reverse("admin:risk_loginlockout_unlock", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:object_id>/unlock/", self.admin_site.admin_view(self.unlock_view),
                     name="risk_loginlockout_unlock"),
                *super().get_urls()]

    def unlock_view(self, request, object_id):
        if not may(request.user, Power.UNLOCK_LOGIN):
            raise PermissionDenied
        changelist = reverse("admin:risk_loginlockout_changelist")
        lockout = services.lockout_by_pk(object_id)
        if lockout is None:
            messages.warning(request, "That lockout is over already: nothing to unlock.")
            return HttpResponseRedirect(changelist)
        form = UnlockForm(request.POST if request.method == "POST" else None)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "lockout": lockout, "form": form,
                   "until": services.locked_until(lockout), "title": f"Unlock {lockout.username}"}
        if request.method != "POST" or not form.is_valid() or "edit" in request.POST:
            return TemplateResponse(request, "admin/risk/loginlockout/unlock.html", context)
        if "confirm" not in request.POST:
            return TemplateResponse(request, "admin/risk/loginlockout/unlock.html", {**context, "confirming": True})
        try:
            services.lockout_unlock(actor=request.user, email=lockout.username, ip=lockout.ip_address,
                                    reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, f"Not done: {refusal(exc)}")
            return HttpResponseRedirect(changelist)
        messages.success(request, f"Unlocked: {lockout.username} can log in again from {lockout.ip_address}.")
        return HttpResponseRedirect(changelist)
