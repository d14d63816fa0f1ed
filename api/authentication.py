"""simplejwt's ``JWTAuthentication``, cheaper per request, with the same checks and errors.

- Every request's token is checked: its signature against the signing key (a check already made by
  this process for these very bytes and this key is not made again: ``_validate``, a memo of a pure
  function), its expiry against the clock and its type, and the user row is read
  (``api.queries.user_by_id``): a deactivated user, a changed key or a revoked token is refused at
  once, on every worker and node. Nothing about a token that can change is remembered between requests.
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
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

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


# A token's signature check (PyJWT's decode: base64, JSON and the HMAC, the largest fixed cost of a read)
# gives the same payload for the same bytes checked the same way. Its result is kept, keyed by the
# token's bytes and everything the check depends on that a process could be given differently (the
# algorithm, the keys, audience and issuer), for the tokens this process has verified (a bounded number,
# the oldest forgotten first). What depends on the time or may change between two requests is checked on
# every one as before: the expiry and the token's type (simplejwt's ``verify()``; ``nbf`` and ``iat``,
# once passed, stay passed), the user row (revocation by version, blocking, deactivation: ``get_user``).
# Keys fetched from a JWKS endpoint (``JWK_URL``, not used here) can be withdrawn: nothing is kept then.
# So no answer differs from decoding every time; a key change (a restart) finds nothing kept for it.
VERIFIED_MAX = 4096
_verified: dict[tuple, tuple] = {}  # (raw token, check) -> (token class, payload)


def _check_key(raw_token) -> tuple | None:
    if token_backend.jwks_client is not None:
        return None
    return (raw_token, token_backend.algorithm, token_backend.signing_key, token_backend.verifying_key,
            token_backend.audience, token_backend.issuer)


def _validate(raw_token):
    """simplejwt's validation, telling an expired token (past ``exp``, signature good) from a bad one."""
    key = _check_key(raw_token)
    known = _verified.get(key) if key else None
    if known is not None:
        token_class, payload = known
        token = token_class.__new__(token_class)  # as Token.__init__ makes it, the decode aside
        token.token, token.current_time, token.payload = raw_token, aware_utcnow(), dict(payload)
        try:
            token.verify()
            return token
        except TokenError:
            _verified.pop(key, None)  # past its exp now: the whole check below answers as it always did
    expired = False
    for token_class in api_settings.AUTH_TOKEN_CLASSES:
        try:
            token = token_class(raw_token)
        except ExpiredTokenError:
            expired = True
        except TokenError:
            pass
        else:
            if key:
                _remember(key, token_class, token)
            return token
    if expired:
        raise TokenExpired()
    raise InvalidToken(_("Given token not valid for any token type"))


def _remember(key: tuple, token_class, token) -> None:
    while len(_verified) >= VERIFIED_MAX:
        try:
            _verified.pop(next(iter(_verified)), None)  # the oldest (threads may be at it too)
        except (StopIteration, RuntimeError):
            break
    _verified[key] = (token_class, dict(token.payload))


class JWTScheme(SimpleJWTScheme):
    """drf-spectacular documents the subclass as it documents simplejwt's class (bearer JWT)."""

    target_class = "api.authentication.JWTAuthentication"
