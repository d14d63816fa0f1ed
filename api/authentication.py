"""simplejwt's ``JWTAuthentication``, cheaper per request, with the same checks and errors.

- The user row is read by one statement written once. It is still read on every request: a
  deactivated user is refused at once, not when the 15-minute token expires. Only the ORM's
  per-request compilation of ``User.objects.get(id=...)`` is gone.
- The token's version (``api.tokens``) must be the user's current ``token_version``, checked
  against that row on every request: a revoked token (password change, reuse of a refresh token)
  is refused at once.
- A token that passed simplejwt's signature and expiry validation is remembered by this process
  (bounded, by its exact encoded string, so by its signature) until its ``exp``: a client's next
  requests with the same token skip PyJWT's decoding and HMAC check. Revocation is never read from
  the memo: it lives in the user row, read above on every request whatever the memo holds.
- An access token past its ``exp`` is ``token_expired`` (refresh it); any other bad token is
  ``token_invalid`` (log in again).
"""

import time
import uuid
from collections import OrderedDict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from nexus import sql

from .exceptions import TokenExpired
from .models import User
from .tokens import claimed_version

_FIELDS, _COLUMNS = sql.select_list(User)
_USER_SQL = f"SELECT {_COLUMNS} FROM {sql.table(User)} WHERE {sql.column(User, api_settings.USER_ID_FIELD)} = %s"  # noqa: S608 - names come from the model


_MEMO_SIZE = 4096
_validated: OrderedDict = OrderedDict()


def forget_tokens() -> None:
    _validated.clear()


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token):
        token, valid_until = _validated.get(raw_token, (None, 0))
        if time.time() < valid_until:
            return token
        _validated.pop(raw_token, None)
        token = _validate(raw_token)
        if len(_validated) >= _MEMO_SIZE:
            try:
                _validated.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread of a threaded worker
                pass
        # simplejwt refuses a token once exp <= now - leeway.
        _validated[raw_token] = token, token.payload["exp"] + token.get_token_backend().get_leeway().total_seconds()
        return token

    def get_user(self, validated_token):
        try:
            user_id = uuid.UUID(str(validated_token[api_settings.USER_ID_CLAIM]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        users = sql.instances(User, _FIELDS, sql.fetch(_USER_SQL, [user_id]))
        if not users:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user = users[0]
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
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
