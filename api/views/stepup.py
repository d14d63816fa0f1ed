"""The second factor on the HTTP side: a wrong code is a failed login; step-up for large payments.

A wrong or reused code, at login or for a payment, is reported exactly as a wrong password is:
Django's ``user_login_failed`` with the request and the user's email, which django-axes counts
towards the lockout of the (email, IP) pair and the risk app records and screens (brute force,
credential stuffing). A locked-out pair gets 429 ``locked_out``, right code or not.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed

from .. import exceptions, selectors
from ..services import mfa
from ..services.transfers import check_amount

# The step-up part of a large payment's documentation (external transfers and bills).
STEP_UP_RULES = (
    " **Step-up**: an amount worth at least `STEP_UP_THRESHOLD` (500 JOD by default) at the current rates needs "
    "`otp`, a current code from the user's authenticator. Missing: 403 `otp_required` (its details say to enrol "
    "when the user has no 2FA); wrong or already used: 403 `otp_invalid`, counted as a failed login towards the "
    "lockout. Nothing moves either way. Input is checked first (400), then the code (403), then the business "
    "rules (422). An idempotent replay of a request already applied is answered without a code."
)
STEP_UP_ERRORS = (
    (exceptions.OtpRequired, "the amount is worth at least `STEP_UP_THRESHOLD` and `otp` is missing, or the user "
                             "has no 2FA to confirm it with."),
    (exceptions.StepUpInvalid, "`otp` is wrong, or was already used."),
    (exceptions.LockedOut, "too many wrong codes or passwords for this email from this IP address."),
)


def _credentials(user) -> dict:
    return {"email": user.email}


def refuse_if_locked_out(request, user) -> None:
    if AxesProxyHandler.is_locked(request._request, _credentials(user)):
        raise exceptions.LockedOut.for_request(request)


def second_factor_failed(request, user) -> None:
    """Count a wrong code as a failed login; 429 when it was the one that locked the pair out."""
    http_request = request._request
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=http_request)
    if getattr(http_request, "axes_locked_out", False):
        raise exceptions.LockedOut.for_request(request)


def _check(request, otp):
    """The step-up check of a request that needs one (run by api.idempotency, never for a replay)."""

    def check():
        user = request.user
        if not otp or not mfa.is_enabled(user):
            raise mfa.step_up_refusal(user)
        refuse_if_locked_out(request, user)
        if not mfa.verify_second_factor(user=user, code=otp, allow_recovery=False):
            second_factor_failed(request, user)
            raise exceptions.StepUpInvalid()

    return check


def transfer_guard(request):
    """``handle_money_request``'s guard for external transfers: ``amount`` is in the sender account's currency."""

    def guard(data, otp):
        amount = data["amount"]
        if not otp and mfa.below_step_up_in_any_currency(amount):
            return None
        currency = selectors.account_currency(request.user, data["sender_account"])
        return _decide(request, amount, currency, otp)

    return guard


def bill_guard(request):
    """``handle_money_request``'s guard for bills: ``amount`` is in the biller's currency."""

    def guard(data, otp):
        amount = data["amount"]
        if not otp and mfa.below_step_up_in_any_currency(amount):
            return None
        return _decide(request, amount, selectors.biller_currency(data["biller"]), otp)

    return guard


def _decide(request, amount, currency, otp):
    if currency is None:  # not the caller's account, or no such biller: the service answers as for anyone
        return None
    check_amount(amount, currency)  # too many decimals for the currency: 400 comes before the step-up
    # A code sent is always checked (and the payment then counts as confirmed); none is asked for here
    # below the threshold, but the service may still ask for one (the daily total, api.services.stepup).
    return _check(request, otp) if otp or mfa.needs_step_up(amount, currency) else None
