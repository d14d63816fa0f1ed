"""simplejwt's ``JWTAuthentication``, cheaper per request, with the same checks and errors.

- Every request's token is decoded and its signature checked with the current signing key, and
  the user row is read (``api.queries.user_by_id``): a deactivated user, a changed key or a revoked
  token is refused at once, on every worker and node. Nothing about a token is remembered between
  requests.
- The token's version (``api.tokens``) must be the user's current ``token_version``: a revoked
  token (password change, reuse of a refresh token, staff revoking sessions) is refused at once.
- A user blocked by staff is refused with ``account_blocked`` whatever the token.
- An access token past its ``exp`` is ``token_expired`` (refresh it); any other bad token is
  ``token_invalid`` (log in again).
"""

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed as DrfAuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from nexus import refcache
from nexus.throttles import UserThrottle, record_counted

from . import queries
from .tokens import claimed_version

# Raised while DRF authenticates a request, so DRF's kind of error (a 401 with ``WWW-Authenticate``), each
# with its contract code (nexus.exceptions reads ``contract_code``). The request layer's own: api.exceptions
# holds the domain's errors, which import nothing of DRF.

class TokenExpired(DrfAuthenticationFailed):
    """An access token past its ``exp``: the client should refresh it."""

    default_detail = "Access token has expired; refresh it."
    default_code = contract_code = "token_expired"


class AccountBlockedToken(DrfAuthenticationFailed):
    """A token of a blocked user (a 401 like any bad token)."""

    default_detail = "This account is blocked; contact the bank."
    default_code = contract_code = "account_blocked"


class JWTAuthentication(authentication.JWTAuthentication):
    request = None

    def authenticate(self, request):
        self.request = request  # DRF makes an authenticator per request
        return super().authenticate(request)

    def get_validated_token(self, raw_token):
        return _validate(raw_token)

    def get_user(self, validated_token):
        try:
            user_id = uuid.UUID(str(validated_token[api_settings.USER_ID_CLAIM]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        # The request's user-throttle hit rides on the same statement (nexus.throttles, api.queries).
        counted = UserThrottle.counted_with_the_user_row(self.request, user_id) if self.request else None
        user, reference_version, hits = queries.user_by_id(user_id, counted[:2] if counted else None)
        if counted and hits is not None:
            record_counted(self.request, counted[0], hits, counted[2])
        if reference_version is not None:
            refcache.learned(reference_version)  # checks made on older reference data are made again now
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if user.blocked_at is not None:
            raise AccountBlockedToken()
        if api_settings.CHECK_REVOKE_TOKEN and (
            validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)
        ):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        if claimed_version(validated_token) != user.token_version:
            raise AuthenticationFailed(_("Token has been revoked"), code="token_revoked")
        return user


def _validate(raw_token):
    """simplejwt's validation, telling an expired token (past ``exp``, signature good) from a bad one."""
    expired = False
    for token_class in api_settings.AUTH_TOKEN_CLASSES:
        try:
            return token_class(raw_token)
        except ExpiredTokenError:
            expired = True
        except TokenError:
            pass
    if expired:
        raise TokenExpired()
    raise InvalidToken(_("Given token not valid for any token type"))


class JWTScheme(SimpleJWTScheme):
    """drf-spectacular documents the subclass as it documents simplejwt's class (bearer JWT)."""

    target_class = "api.authentication.JWTAuthentication"
