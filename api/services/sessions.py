"""Tokens: issuing them, one-time refresh with reuse detection, revocation, password change.

One mechanism revokes tokens: ``User.token_version``. Every token carries the version current when
it was issued (``api.tokens``); authentication and refresh refuse any other. ``end_sessions``
raises the version, which revokes every token issued before; it also blacklists the outstanding
refresh tokens in simplejwt's tables, so the admin shows them. A password change (the API, both
admin forms) is ``password_change``, which revokes.
"""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .. import exceptions
from ..locks import lock_outstanding_token
from ..models import User
from ..tokens import VERSION_CLAIM, UnlistedRefreshToken, claimed_version
from . import notifications


def issue_tokens(user: User) -> dict[str, str]:
    """A refresh token, recorded as outstanding (so it can be used once and revoked), and its access
    token, both carrying the user's current token version."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    refresh[VERSION_CLAIM] = user.token_version
    encoded = str(refresh)
    OutstandingToken.objects.create(user=user, jti=refresh[api_settings.JTI_CLAIM], token=encoded,
                                    created_at=refresh.current_time, expires_at=datetime_from_epoch(refresh["exp"]))
    return {"access": str(refresh.access_token), "refresh": encoded}


def refresh_tokens(*, raw: str) -> dict[str, str]:
    """Exchange a refresh token, once, for a new pair.

    The token's outstanding row is locked, so of concurrent exchanges of one token exactly one
    succeeds. A token already used (rotated or logged out) means a copy of it is in other hands:
    every token of the user is revoked, the pair just issued to whoever used it first included.
    """
    try:
        token = UnlistedRefreshToken(raw)
    except TokenError as exc:
        raise exceptions.TokenInvalid() from exc
    user = _active_user(token)
    if user is None or claimed_version(token) != user.token_version:
        raise exceptions.TokenInvalid()
    with transaction.atomic():
        outstanding = lock_outstanding_token(jti=token[api_settings.JTI_CLAIM], user=user)
        if outstanding is None:
            raise exceptions.TokenInvalid()
        # Blacklisting the token is what claims the exchange. The row lock orders exchanges, but a
        # logout or a revocation blacklists without it: their row, committed while this insert waits
        # on the unique index, means the token is spent, exactly like one found here already.
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
            reused = False
        except IntegrityError:
            reused = True
        if reused:
            end_sessions(user)
        else:
            pair = issue_tokens(user)
    if reused:  # raised after the commit: the revocation must stand
        raise exceptions.RefreshTokenReused()
    return pair


def _active_user(token) -> User | None:
    try:
        user_id = uuid.UUID(str(token[api_settings.USER_ID_CLAIM]))
    except (KeyError, ValueError):
        return None
    user = User.objects.filter(pk=user_id).first()
    return user if user is not None and user.is_active else None


@transaction.atomic
def end_sessions(user: User) -> None:
    """End every session of ``user``, everywhere, at once (contract v1.3): the one way to do it.

    Raising ``token_version`` revokes every access and refresh token issued before, and every back-office
    (Django admin) session, whose auth hash includes the version (``User._get_session_auth_hash``); every
    WebSocket opened with a token is closed once this commits; a login waiting for its second factor is
    void (its ticket carries the version, api.services.mfa). Every worker and node sees it at the next request: all of it is the user's row.
    """
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    notifications.sessions_revoked(user_id=user.pk, token_version=user.token_version)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=pk) for pk in live.values_list("pk", flat=True)],
                                         ignore_conflicts=True)


@transaction.atomic
def password_change(*, user: User, new_password: str | None) -> None:
    """Set a new password (already validated), or none (``None``: no password login), and revoke every
    token issued under the old one."""
    if new_password is None:
        user.set_unusable_password()
    else:
        user.set_password(new_password)
    user.save(update_fields=["password"])
    end_sessions(user)
    notifications.security_alert(user_id=user.pk, event="password_changed", title="Your password was changed",
                                 body="Every session was logged out. If this was not you, contact the bank.")
