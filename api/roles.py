"""Staff roles (contract v1.1): Django groups whose permissions every staff check reads.

An endpoint or admin page asks for a permission, never for a role name, so a superuser (who
holds every permission) and any future role work unchanged. This table is the one place that
says which role may do what. Data migrations create the groups from it, each app granting its
own permissions (api 0007, risk 0004, business 0002); the README's who-can-do-what table
describes it.
"""

from enum import StrEnum


class Power(StrEnum):
    """Every power a check names: the API's views (``staff_permissions``), the admin's pages and buttons, and
    the services that decide by role all ask for one of these, through :func:`may` or DRF's
    ``StaffPermission``; :data:`GRANTS` gives them to roles. A Django permission, so a superuser holds them all."""

    DEPOSIT = "api.make_deposit"
    REVERSE = "api.request_reversal"
    DECIDE_APPROVAL = "api.decide_approval"
    VIEW_APPROVALS = "api.view_approval"
    FREEZE_ACCOUNT = "api.freeze_account"
    UNFREEZE_ACCOUNT = "api.unfreeze_account"
    CHANGE_DAILY_LIMIT = "api.change_account_limit"
    BLOCK_USER = "api.block_user"
    RESET_TWO_FACTOR = "api.reset_twofactor"
    CANCEL_STANDING_ORDER = "api.cancel_standingorder"
    VIEW_USERS = "api.view_user"
    VIEW_TRANSACTIONS = "api.view_transaction"
    VIEW_STANDING_ORDERS = "api.view_standingorder"
    VIEW_AUDIT_TRAIL = "api.view_auditrecord"
    SET_FX_RATE = "api.add_fxrate"
    VIEW_INCIDENTS = "risk.view_incident"
    HANDLE_INCIDENT = "risk.change_incident"
    VIEW_LOGIN_EVENTS = "risk.view_loginevent"
    VIEW_BLACKLIST = "risk.view_blockedip"
    BLOCK_IP = "risk.add_blockedip"
    UNBLOCK_IP = "risk.delete_blockedip"
    VIEW_LOCKOUTS = "risk.view_loginlockout"
    UNLOCK_LOGIN = "risk.unlock_login"
    VIEW_ACCESS_ATTEMPTS = "axes.view_accessattempt"
    VIEW_METRICS = "business.view_dailybusinessmetrics"
    VIEW_JOBS = "nexus.view_job"
    RETRY_JOB = "nexus.retry_job"


def may(user, *powers: str) -> bool:
    """Whether ``user`` (active staff) holds every one of ``powers``."""
    return bool(user and user.is_active and user.is_staff and user.has_perms(powers))


TELLER = "Teller"
SUPERVISOR = "Supervisor"
RISK_ANALYST = "Risk analyst"
AUDITOR = "Auditor"
ROLES = (TELLER, SUPERVISOR, RISK_ANALYST, AUDITOR)

_LOOK_UP_CUSTOMERS = [Power.VIEW_USERS, "api.view_account", "api.view_card", Power.VIEW_TRANSACTIONS,
                      "api.view_ledgerentry", "api.view_billpayment", "api.view_biller", "api.view_fxrate",
                      "api.view_notification", "api.view_twofactor", Power.VIEW_STANDING_ORDERS,
                      "api.view_standingorderrun"]
# v1.3: roles are exact. Freezing, unfreezing and the daily limit are separate powers; a teller's limit
# increase is held for a second approver (api.services.accounts), a decrease acts at once.
_TELLER = [*_LOOK_UP_CUSTOMERS, Power.FREEZE_ACCOUNT, Power.CHANGE_DAILY_LIMIT, Power.DEPOSIT,
           Power.REVERSE, Power.VIEW_APPROVALS, Power.CANCEL_STANDING_ORDER]
_SEE_RISK = [Power.VIEW_INCIDENTS, Power.VIEW_LOGIN_EVENTS, Power.VIEW_BLACKLIST,
             Power.VIEW_ACCESS_ATTEMPTS, "axes.view_accessfailurelog"]

GRANTS: dict[str, list[str]] = {
    TELLER: _TELLER,
    SUPERVISOR: [*_TELLER, Power.UNFREEZE_ACCOUNT, Power.DECIDE_APPROVAL, Power.SET_FX_RATE, Power.BLOCK_USER,
                 Power.RESET_TWO_FACTOR, Power.VIEW_METRICS,
                 Power.VIEW_LOCKOUTS, Power.UNLOCK_LOGIN, Power.VIEW_JOBS, Power.RETRY_JOB],
    # v1.3: a lockout is unlocked through risk.services.lockout_unlock (audited), never by deleting axes' rows.
    RISK_ANALYST: [*_LOOK_UP_CUSTOMERS, Power.FREEZE_ACCOUNT, Power.BLOCK_USER, Power.CANCEL_STANDING_ORDER, *_SEE_RISK,
                   Power.HANDLE_INCIDENT, Power.BLOCK_IP, Power.UNBLOCK_IP,
                   Power.VIEW_LOCKOUTS, Power.UNLOCK_LOGIN],
    AUDITOR: [*_LOOK_UP_CUSTOMERS, Power.VIEW_APPROVALS, Power.VIEW_AUDIT_TRAIL, *_SEE_RISK,
              Power.VIEW_METRICS],
}


def grants_of(label: str) -> dict[str, list[str]]:
    """The codenames each role holds in app ``label``."""
    return {role: [perm.split(".", 1)[1] for perm in perms if perm.startswith(f"{label}.")]
            for role, perms in GRANTS.items()}


def _ensure_permissions(apps, label: str) -> None:
    """Django creates permissions after migrate; a data migration that grants them needs them now."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def grant(apps, label: str) -> None:
    """Create the role groups and give them their permissions in app ``label`` (data migrations)."""
    _ensure_permissions(apps, label)
    sync(apps, label)


def _existing(apps, label: str, codenames: list[str]) -> list[str]:
    """The codenames that exist at this point of the migration history (a default one of a model that
    exists, or a custom one a model declares by then): a later migration (the one that creates the model
    or declares the permission) grants the others, so an early one still runs on a fresh database."""
    models = list(apps.get_app_config(label).get_models())
    names = {model._meta.model_name for model in models}
    custom = {codename for model in models for codename, _ in model._meta.permissions}
    defaults = ("add_", "change_", "delete_", "view_")
    return [name for name in codenames
            if name in custom or (name.startswith(defaults) and name.split("_", 1)[1] in names)]


def sync(apps, label: str, *, exact: bool = False) -> None:
    """Grant each role its permissions in app ``label``; with ``exact``, also take away the ones of that
    app this table no longer gives it (v1.3: roles are exact)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants_of(label).items():
        codenames = _existing(apps, label, codenames)
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"unknown {label} permissions for {role}: {sorted(missing)}")
        if exact:
            group.permissions.remove(*group.permissions.filter(content_type__app_label=label)
                                     .exclude(codename__in=codenames))
        group.permissions.add(*permissions)


def grant_exactly(apps, label: str) -> None:
    """Make each role hold exactly what this table says in app ``label`` (data migrations of v1.3)."""
    _ensure_permissions(apps, label)
    sync(apps, label, exact=True)


def revoke(apps, label: str) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants_of(label).items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=label,
                                                                codename__in=codenames))
