"""The admin site: its login form and its password change are login surfaces like the API's.

Each checks the password through Django's ``authenticate()``, so django-axes (lockout) and the risk
rules see every failure through ``user_login_failed``, and every success through
``user_logged_in``; a locked-out attempt is refused even with the right password. The POSTs of both
are throttled per client IP (``THROTTLE_ADMIN_LOGIN``), which bounds what one client can make the
login machinery write. A new password is saved by the same service as the API's, which revokes every
token issued before.
"""

import datetime as dt
import math

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.db import DataError, models
from django.shortcuts import render
from django.urls import reverse
from rest_framework.settings import api_settings

from nexus.client_ip import client_ip
from nexus.throttles import hit, parse_rate

from . import bounds
from .backends import BLOCKED_FLAG
from .services import mfa, sessions


class StaffLoginForm(AdminAuthenticationForm):
    """Django's admin login, plus the second factor of staff who turned 2FA on (contract v1.2): the
    admin is a login surface like the API, so it asks for the same code and a wrong one is a failed
    login for the lockout and the risk rules."""

    otp_code = forms.CharField(label="Authenticator code", required=False, max_length=64,
                               widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
                               help_text="Only if two-factor authentication is on for your account.")

    def get_invalid_login_error(self):
        # authenticate() has already counted the failure; a blocked member who gave the right password
        # (api.backends) is told why, as the API tells account_blocked, instead of being invited to retry.
        if getattr(self.request, BLOCKED_FLAG, False):
            return ValidationError("This account is blocked by the bank. Contact a supervisor to have it "
                                   "unblocked.", code="account_blocked")
        return super().get_invalid_login_error()

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
            if mfa.is_enabled(user) and not mfa.verify_second_factor(
                    user=user, code=self.cleaned_data.get("otp_code") or "", allow_recovery=True):
                raise ValidationError("Enter a current code from your authenticator (or a recovery code).",
                                      code="otp_invalid")
        except ValidationError:
            # The password was right, but this account may not use the admin, or the second factor was
            # wrong: for the lockout and the login rules it is a failed login like any other (Django's
            # own form records nothing).
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()},
                                   request=self.request)
            raise


class CheckedPasswordChangeForm(AdminPasswordChangeForm):
    """The old password is checked by ``authenticate()``, as at login, not by ``check_password()``."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old_password) is None:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        user_logged_in.send(sender=type(self.user), request=self.request, user=self.user)
        return old_password

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        sessions.password_change(user=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user


class StaffSetPasswordForm(auth_forms.AdminPasswordChangeForm):
    """Staff setting (or disabling) a user's password: the user's tokens are revoked, as after a change
    through the API."""

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        sessions.password_change(user=self.user, new_password=password)
        return self.user


class _PasswordChangeView(PasswordChangeView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


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
    """Every list of the site uses the bounded change list (added by NexusAdminSite.register)."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList


# A number typed into a browser's number input that is not one ("abc") is sent as nothing, and the form then
# says "This field is required.": every number of the site is a text input, so the server sees what was
# typed and says it is not a number (the keyboard of a phone still shows digits).
NUMBER_INPUTS = {
    models.DecimalField: ("decimal", "Not a number: write digits, with a dot for decimals (such as 2500.5)."),
    models.IntegerField: ("numeric", "Not a whole number: write digits only (such as 25)."),
}


class TextNumbers:
    """Every number field of the site's forms as a text input saying what is wrong (NexusAdminSite.register)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        kind = next((value for cls, value in NUMBER_INPUTS.items() if isinstance(db_field, cls)), None)
        if kind is not None and not db_field.choices and "widget" not in kwargs:
            mode, invalid = kind
            kwargs["widget"] = forms.TextInput(attrs={"inputmode": mode, "size": 20})
            kwargs["error_messages"] = {"invalid": invalid, **kwargs.get("error_messages", {})}
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class NexusAdminSite(admin.AdminSite):
    login_form = StaffLoginForm
    site_header = site_title = "Nexus Bank back office"
    index_title = "Back office"
    # "View site": the bank has no customer web site here; its public face is the landing page (the API's
    # version, links to the reference, the guide and the health check), not Swagger UI itself.
    site_url = "/"
    # At 1400 px the lists need the width more than a second copy of the home page's model list.
    enable_nav_sidebar = False

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin, third-party ones included, gets the bounded change list and text number inputs."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BoundedDates):
            admin_class = type(admin_class.__name__, (BoundedDates, TextNumbers, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def is_admin_request(self, request) -> bool:
        return request.path.startswith(reverse(f"{self.name}:index"))

    def refusal(self, request, message: str, *, retry_after: int, hint: str = ""):
        """A 429 page in the admin's look (a lockout, a throttled login), with ``Retry-After``; ``hint`` says
        what else one can do."""
        context = {**self.each_context(request), "title": "Log in refused", "message": message, "hint": hint,
                   "retry_minutes": max(1, math.ceil(retry_after / 60))}
        response = render(request, "admin/refused.html", context, status=429)
        response["Retry-After"] = str(retry_after)
        return response

    def _throttled(self, request):
        """A refusal once the client's IP has posted too many passwords this window, else None."""
        if request.method != "POST":
            return None
        limit, window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES["admin_login"])
        count, wait = hit(f"admin_login:{client_ip(request)}", window)
        if count > limit:
            return self.refusal(request, "Too many login attempts from your address.", retry_after=wait)
        return None

    def login(self, request, extra_context=None):
        return self._throttled(request) or super().login(request, extra_context)

    def password_change(self, request, extra_context=None):
        refused = self._throttled(request)
        if refused:
            return refused
        # AdminSite.password_change, with the view that hands the request to the form.
        request.current_app = self.name
        return _PasswordChangeView.as_view(
            form_class=CheckedPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
            **({"template_name": self.password_change_template} if self.password_change_template else {}),
        )(request)
