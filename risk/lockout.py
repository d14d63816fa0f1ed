"""django-axes hooks: whose attempt it is, and the answer to a locked-out one."""

from api.exceptions import LockedOut
from nexus.domain import refusal


def login_username(request, credentials=None) -> str | None:
    """The email a login attempt names, lower-cased, whichever form sent it.

    The API passes ``email`` to ``authenticate()``, Django's admin form ``username``. axes keys its
    lockouts on this (``AXES_USERNAME_CALLABLE``) and the risk app records it, so both count the same
    attempts against the same email on every login surface.
    """
    source = credentials if credentials else getattr(request, "POST", None) or {}
    value = source.get("email") or source.get("username") or ""
    return str(value).strip().lower()[:254] or None


# Who can end a lockout early (risk.unlock_login, api.roles), on the admin's locked-out login page.
UNLOCK_HINT = ("Cannot wait? A Risk analyst or a Supervisor can unlock your login in the back office "
               "(Risk management → Login lockouts).")


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    from django.contrib import admin

    locked = LockedOut.for_request(request)
    if admin.site.is_admin_request(request):
        return admin.site.refusal(request, "Too many failed login attempts for this account from your address.",
                                  retry_after=locked.retry_after, hint=UNLOCK_HINT)
    return refusal(locked)
