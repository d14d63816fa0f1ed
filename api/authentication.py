"""simplejwt's ``JWTAuthentication`` with the user row read by one statement written once.

Same checks, same errors: the row is read on every request (a deactivated user is refused at
once, not when the 15-minute token expires), only the ORM's per-request compilation of
``User.objects.get(id=...)`` is gone.
"""

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from nexus import sql

from .models import User

_FIELDS, _COLUMNS = sql.select_list(User)
_USER_SQL = f"SELECT {_COLUMNS} FROM {sql.table(User)} WHERE {sql.column(User, api_settings.USER_ID_FIELD)} = %s"  # noqa: S608 - names come from the model


class JWTAuthentication(authentication.JWTAuthentication):
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
        return user


class JWTScheme(SimpleJWTScheme):
    """drf-spectacular documents the subclass as it documents simplejwt's class (bearer JWT)."""

    target_class = "api.authentication.JWTAuthentication"
