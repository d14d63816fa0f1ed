"""Two-factor authentication (contract v1.2): TOTP (RFC 6238), recovery codes, the login ticket, step-up.

- **Codes** are RFC 6238 TOTP as authenticator apps compute them (SHA-1, 6 digits, 30 s steps; pyotp
  does the arithmetic). A code from the current step or one step either side is accepted, once: the
  step of the last accepted code is stored and no code of that step or an earlier one is accepted
  again. Checking takes a row lock on the authenticator, so two requests with one code take turns and
  only the first succeeds.
- **The secret at rest** is encrypted with Fernet (AES-128-CBC and HMAC-SHA256) under a key derived
  from ``TOTP_ENCRYPTION_KEY`` (nexus.keys; production requires its own): a copy of the database
  without the key gives nobody a second factor.
- **Recovery codes**: ten, shown once at confirmation, stored as HMAC-SHA256 under the same key, each
  good for one use.
- **The login ticket** (``mfa_token``): after the password, a random token whose SHA-256 alone is
  kept (``MfaChallenge``), valid for ``MFA_TOKEN_LIFETIME`` (5 minutes) and one successful
  verification, at most ``CHALLENGE_ATTEMPTS`` wrong codes. It lives in the database, so any worker
  can finish the login another started.
- **Step-up**: an external transfer or a bill worth at least ``STEP_UP_THRESHOLD`` JOD needs a code.

A wrong or reused code, at login or for a payment, is reported exactly as a wrong password is
(:func:`second_factor_failed`): Django's ``user_login_failed`` with the request and the user's email,
which django-axes counts towards the lockout of the (email, IP) pair and the risk app records and
screens (brute force, credential stuffing). A locked-out pair gets 429 ``locked_out``, right code or not.
"""

import base64
import hashlib
import hmac
import secrets
from decimal import Decimal

import pyotp
from axes.handlers.proxy import AxesProxyHandler
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone

from .. import exceptions, money, selectors
from ..models import MfaChallenge, RecoveryCode, TwoFactor, User
from . import notifications
from .fx import current_rates

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side of the current one
RECOVERY_CODES = 10
CHALLENGE_ATTEMPTS = 5


def _subkey(purpose: str) -> bytes:
    return hmac.new(settings.TOTP_ENCRYPTION_KEY.encode(), purpose.encode(), hashlib.sha256).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_subkey("totp-secret")))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # written under another key: this authenticator can no longer be read
        return None


def _recovery_hash(code: str) -> str:
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hmac.new(_subkey("recovery-code"), normalized.encode(), hashlib.sha256).hexdigest()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters, 80 bits
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:16]}"


def is_enabled(user: User) -> bool:
    return selectors.two_factor_enabled(user)


def otpauth_url(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=settings.TOTP_ISSUER)


@transaction.atomic
def mfa_setup(*, user: User) -> tuple[str, str]:
    """A new secret (not active until confirmed); a pending one is replaced. Refused while 2FA is on."""
    existing = TwoFactor.objects.select_for_update().filter(user=user).first()
    if existing is not None and existing.confirmed_at is not None:
        message = "Two-factor authentication is already on; disable it first."
        raise exceptions.InvalidInput(message, details={"two_factor": [message]})
    secret = pyotp.random_base32(32)
    TwoFactor.objects.update_or_create(user=user, defaults={
        "secret": _encrypt(secret), "confirmed_at": None, "last_used_step": None, "created_at": timezone.now()})
    return secret, otpauth_url(user, secret)


def _matching_step(secret: str, code: str, after: int | None, now: float) -> int | None:
    """The step (within WINDOW of now, later than ``after``) whose code is ``code``."""
    if not (isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_totp(device: TwoFactor, code: str) -> bool:
    """Accept ``code`` once for ``device`` (locked by the caller) and record its step."""
    secret = _decrypt(device.secret)
    if secret is None:
        return False
    step = _matching_step(secret, code, device.last_used_step, timezone.now().timestamp())
    if step is None:
        return False
    TwoFactor.objects.filter(pk=device.pk).update(last_used_step=step)
    device.last_used_step = step
    return True


def _use_recovery_code(user: User, code: str) -> bool:
    if not isinstance(code, str) or not code.strip():
        return False
    return bool(RecoveryCode.objects.filter(user=user, code_hash=_recovery_hash(code), used_at__isnull=True)
                .update(used_at=timezone.now()))


@transaction.atomic
def mfa_confirm(*, user: User, code: str) -> list[str] | None:
    """Turn 2FA on with a first code from the new secret; the ten recovery codes (shown this once), or
    None when the code is wrong."""
    device = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        message = ("Two-factor authentication is already on." if is_enabled(user)
                   else "Start with POST /auth/2fa/setup/.")
        raise exceptions.InvalidInput(message, details={"two_factor": [message]})
    if not _use_totp(device, code):
        return None
    TwoFactor.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_recovery_hash(code)) for code in codes])
    notifications.security_alert(user_id=user.pk, event="two_factor_on", title="Two-factor authentication is on",
                                 body="Logins and large payments now ask for a code from your authenticator.")
    return codes


@transaction.atomic
def verify_second_factor(*, user: User, code: str, allow_recovery: bool) -> bool:
    """Whether ``code`` is a current, unused TOTP of ``user`` (or, with ``allow_recovery``, one of their
    unused recovery codes); either is then used up. Commits on its own: a used code stays used whatever
    the caller does next."""
    device = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    if _use_totp(device, code):
        return True
    return allow_recovery and _use_recovery_code(user, code)


@transaction.atomic
def mfa_disable(*, user: User, notify: bool = True) -> None:
    """Turn 2FA off (the caller checked the password and a current code, or it is a staff reset, which
    notifies in its own words)."""
    deleted, _ = TwoFactor.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    if deleted and notify:
        notifications.security_alert(user_id=user.pk, event="two_factor_off", title="Two-factor authentication is off",
                                     body="Logins and large payments no longer ask for a code. If this was not you, "
                                          "change your password and contact the bank.")


# --- the login ticket -------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def challenge_create(*, user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    MfaChallenge.objects.create(token_hash=_token_hash(token), user=user, created_at=now,
                                expires_at=now + settings.MFA_TOKEN_LIFETIME, token_version=user.token_version)
    return token


def challenge_user(token: str) -> User | None:
    """The user a live ticket belongs to (unexpired, unused, attempts left); None otherwise."""
    if not isinstance(token, str) or not token:
        return None
    challenge = (MfaChallenge.objects.select_related("user")
                 .filter(token_hash=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now(),
                         attempts__lt=CHALLENGE_ATTEMPTS).first())
    return None if challenge is None else challenge.user


@transaction.atomic
def challenge_verify(*, token: str, code: str) -> User | None:
    """Spend the ticket on a right code (the user), or count a wrong one (None). Under a row lock on the
    ticket: of two verifications of one ticket, one at most succeeds."""
    challenge = (MfaChallenge.objects.select_for_update()
                 .filter(token_hash=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now(),
                         attempts__lt=CHALLENGE_ATTEMPTS).first())
    if challenge is None:
        return None
    user = User.objects.get(pk=challenge.user_id)
    if challenge.token_version != user.token_version:
        return None  # every session of the user ended since the password was checked: log in again
    if not verify_second_factor(user=user, code=code, allow_recovery=True):
        MfaChallenge.objects.filter(pk=challenge.pk).update(attempts=challenge.attempts + 1)
        return None
    MfaChallenge.objects.filter(pk=challenge.pk).update(used_at=timezone.now())
    return user


# --- step-up ----------------------------------------------------------------------------------

def _threshold() -> Decimal:
    return Decimal(settings.STEP_UP_THRESHOLD)


def below_step_up_in_any_currency(amount: Decimal) -> bool:
    """True when ``amount`` is worth less than the threshold whatever currency it is in: no lookup needed."""
    rates, _ = current_rates()
    return amount < _threshold() * min([Decimal(1), *rates.values()])


def needs_step_up(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` of ``currency`` is worth at least STEP_UP_THRESHOLD JOD at current rates
    (converted as every report converts: rounded down to the fils)."""
    return money.to_base(amount, currency, current_rates()[0]) >= _threshold()


def step_up_refusal(user: User) -> exceptions.OtpRequired:
    if is_enabled(user):
        return exceptions.OtpRequired()
    return exceptions.OtpRequired(
        "A payment this large needs a code from an authenticator, and you have none: turn on two-factor "
        "authentication first (POST /auth/2fa/setup/, then /auth/2fa/confirm/).",
        details={"enrol": "/auth/2fa/setup/", "two_factor_enabled": False})


def confirm_step_up(*, user: User, origin, otp: str | None) -> bool:
    """Check the code of a payment that needs one (api.services.money_request, never for a replay): 403
    ``otp_required`` without one (or without 2FA), 429 for a locked-out pair, 403 ``otp_invalid`` for a
    wrong or used one (counted as a failed login). True: the payment is confirmed by a code."""
    if not otp or not is_enabled(user):
        raise step_up_refusal(user)
    refuse_if_locked_out(origin, user)
    if not verify_second_factor(user=user, code=otp, allow_recovery=False):
        second_factor_failed(origin, user)
        raise exceptions.StepUpInvalid()
    return True


# --- a wrong code is a failed login -------------------------------------------------------------

def _credentials(user: User) -> dict:
    return {"email": user.email}


def refuse_if_locked_out(request, user: User) -> None:
    """429 ``locked_out`` when the (email, IP) pair of this HTTP request is locked out."""
    if AxesProxyHandler.is_locked(request, _credentials(user)):
        raise exceptions.LockedOut.for_request(request)


def second_factor_failed(request, user: User) -> None:
    """Count a wrong code as a failed login; 429 when it was the one that locked the pair out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    if getattr(request, "axes_locked_out", False):
        raise exceptions.LockedOut.for_request(request)
