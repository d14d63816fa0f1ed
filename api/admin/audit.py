"""The back office's audit trail (contract v1.1): read-only for everyone, superusers included (the database
refuses changes too), and read as words: what happened ("Froze the account"), each change as a person would
say it, the object linked to its page for whoever may open it."""

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..models import Approval, AuditRecord, Transaction, User
from .display import UUID_TEXT, ReadOnlyAdmin, page_link, short_id, time_column, url_with, when

# Each field of ``changes`` in words.
CHANGE_LABELS = {
    "is_active": "State", "daily_limit": "Daily limit", "is_staff": "Staff", "is_superuser": "Superuser",
    "groups": "Roles", "user_permissions": "Own permissions", "permissions": "Permissions", "members": "Members",
    "blocked": "Blocked", "blocked_reason": "Block reason", "unblock_reason": "Unblock reason",
    "token_version": "Sessions", "two_factor_enabled": "Two-factor", "effective_from": "Effective from",
    "rate": "Rate (per JOD)", "ip": "IP address", "failures": "Failed logins", "cidr": "IP range",
    "requested_by": "Requested by", "object": "On", "reversal": "Reversal", "transaction": "Transaction made",
}
# A yes/no field in the words of what it means, (when True, when False), per kind of object.
FLAG_WORDS = {("account", "is_active"): ("active", "frozen"), ("user", "is_active"): ("active", "deactivated"),
              ("user", "two_factor_enabled"): ("on", "off")}
# A state or a kind as its label (an incident's, which this app does not define, as its words).
CHOICE_WORDS = {**dict(Transaction.Status.choices), **dict(Approval.Status.choices), **dict(Approval.Action.choices)}
# Objects of the audit trail that have a page of their own, by the id the record keeps.
OBJECT_PAGES = {"account": "api.Account", "transaction": "api.Transaction", "approval": "api.Approval",
                "incident": "risk.Incident", "standing_order": "api.StandingOrder"}
# Values a change removed whose removal is what happened: a lockout cleared for these addresses.
CLEARED = {("lockout", "ip"): "Unlocked from"}

# What a record says happened, when its action alone is too vague: the first of (field, value it took, words)
# that matches its changes, several joined (``ANY``: whatever the value).
ANY = object()
EVENTS = {
    "account_update": [("is_active", False, "Froze the account"), ("is_active", True, "Unfroze the account"),
                       ("daily_limit", ANY, "Changed the daily limit")],
    "user_update": [("blocked", True, "Blocked the user"), ("blocked", False, "Unblocked the user"),
                    ("token_version", ANY, "Ended every session"), ("is_active", False, "Deactivated the user"),
                    ("is_active", True, "Reactivated the user"), ("is_staff", True, "Made the user staff"),
                    ("is_staff", False, "Took the user's staff status away")],
    "incident_update": [("status", "acknowledged", "Acknowledged the incident"),
                        ("status", "resolved", "Resolved the incident"), ("note", ANY, "Added a note")],
}
ACTION_WORDS = {
    "deposit": "Cash deposit", "reversal": "Reversed the transaction", "fx_rate_change": "Published an FX rate",
    "incident_update": "Changed the incident", "blacklist_add": "Blocked an IP range",
    "blacklist_remove": "Unblocked an IP range", "approval_request": "Asked for a second approver",
    "approval_approve": "Approved the request", "approval_reject": "Rejected the request",
    "approval_cancel": "Cancelled the request (its requester was blocked or deactivated)",
    "role_change": "Changed roles or permissions", "password_reset": "Set the user's password",
    "lockout_unlock": "Unlocked a login lockout", "twofa_reset": "Reset two-factor authentication",
    "standing_order_cancel": "Cancelled the standing order",
}
# Held commands carried out on approval: the actor approved, the requester is in the changes.
ON_APPROVAL = ("deposit", "reversal", "account_update")


def audit_what(record) -> str:
    """What happened, in words: ``Froze the account``; ``Cash deposit, approved`` for a held one."""
    changes = record.changes if isinstance(record.changes, dict) else {}
    said = [words for name, value, words in EVENTS.get(record.action, [])
            if name in changes and (value is ANY or changes[name][1] == value)]
    text = "; ".join([said[0], *(part[0].lower() + part[1:] for part in said[1:])]) if said else (
        ACTION_WORDS.get(record.action) or record.get_action_display())
    if record.action in ON_APPROVAL and "requested_by" in changes:
        text += " (on approval of the request)"
    return text


def audit_value(record, name: str, value):
    """One value of a change as words: yes/no (or what the flag means), lists joined, a time in the bank's
    zone, a transaction's id as a short link, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return FLAG_WORDS.get((record.object_type, name), ("yes", "no"))[0 if value else 1]
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    text = str(value)
    if UUID_TEXT.fullmatch(text):
        if name in ("transaction", "reversal", "object"):  # "object": what a reversal request is about
            return page_link(Transaction, reverse("admin:api_transaction_change", args=[text]), text[:8], title=text,
                             css="nx-id")
        return short_id(text)
    if name in ("status", "action"):
        return CHOICE_WORDS.get(text, text.replace("_", " ").capitalize())
    if name == "effective_from":
        moment = parse_datetime(text)
        return when(moment) if moment else text
    return text


def audit_change(record, name: str, old, new) -> str:
    """``State: active → frozen``; a value set where there was none reads ``Reason: …``; one whose removal is
    what happened reads ``Unlocked from: 127.0.0.1``."""
    label = CHANGE_LABELS.get(name, name.replace("_", " ").capitalize())
    if name == "token_version":
        return format_html("{}: every one ended", label)
    if (record.object_type, name) in CLEARED and new in (None, "", []):
        return format_html("{}: {}", CLEARED[record.object_type, name], audit_value(record, name, old))
    if old is None or (old == "" and not isinstance(new, bool)):
        return format_html("{}: {}", label, audit_value(record, name, new))
    return format_html("{}: {} → {}", label, audit_value(record, name, old), audit_value(record, name, new))


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    """The audit trail: read-only for everyone, superusers included (the database refuses changes too)."""

    list_display = ["time", "actor_email", "what", "object_type", "object_cell", "change_summary", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_email", "object_id", "request_id"]
    search_help_text = "Actor's email, object id (account number, UUID, email) or request id."
    date_hierarchy = "timestamp"
    fields = ["time", "actor_email", "what", "action", "object_type", "object_cell", "change_summary", "ip",
              "request_id"]
    readonly_fields = fields

    time = time_column("timestamp")

    @admin.display(description="What happened", ordering="action")
    def what(self, obj):
        return audit_what(obj)

    @admin.display(description="Object", ordering="object_id")
    def object_cell(self, obj):
        """The object's id (a UUID shortened, whole on hover), linking to its page where it has one; a user
        (kept by email) to the users found by it."""
        text = short_id(obj.object_id) if UUID_TEXT.fullmatch(obj.object_id) else obj.object_id
        if obj.object_type == "user":
            return page_link(User, url_with("admin:api_user_changelist", q=obj.object_id), text, title=obj.object_id)
        try:
            model = apps.get_model(OBJECT_PAGES[obj.object_type])
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.object_id])
        except (KeyError, LookupError, NoReverseMatch):
            return text
        return page_link(model, url, text, title=obj.object_id)

    @admin.display(description="Changes")
    def change_summary(self, obj):
        return format_html_join(mark_safe("<br>"), "{}",  # noqa: S308 - a constant
                                ((audit_change(obj, name, old, new),) for name, (old, new) in obj.changes.items()))
