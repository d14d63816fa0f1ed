from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from nexus.client_ip import client_ip
from nexus.throttles import AnonThrottle, LoginThrottle, RegisterThrottle, UserThrottle

from .. import exceptions, serializers
from ..backends import BLOCKED_FLAG
from ..services import mfa, sessions
from ..services.accounts import user_register
from .common import ERRORS, ErrorSerializer


def check_credentials(request, *, email: str, password: str):
    """The one way a password is checked: Django's ``authenticate()``.

    A failure (a wrong password, an unknown or inactive user, a locked-out pair) sends Django's
    ``user_login_failed``, which django-axes counts and the risk app records and screens; a pair
    locked out by axes is refused with 429. The caller announces a success with ``logged_in``.
    """
    # axes needs the Django HttpRequest, not DRF's wrapper (axes issues 570, 877, 984).
    http_request = request._request
    user = authenticate(request=http_request, email=email, password=password)
    if getattr(http_request, "axes_locked_out", False):
        raise exceptions.LockedOut()
    return user


def logged_in(request, user) -> None:
    """Django's ``user_logged_in``, as a session login sends it: axes resets the pair's failures, the
    risk app records the login, Django stamps ``last_login``."""
    user_logged_in.send(sender=type(user), request=request._request, user=user)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, RegisterThrottle]

    @extend_schema(request=serializers.RegisterSerializer, responses={201: serializers.RegisterSerializer, **ERRORS})
    def post(self, request):
        serializer = serializers.RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(serializers.RegisterSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange email and password for a JWT pair, or, with 2FA on, for the ticket of the second step."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, LoginThrottle]

    @extend_schema(
        request=serializers.LoginSerializer, summary="Log in",
        description="Email and password. Without two-factor authentication: `{access, refresh}`. With it "
                    "(v1.2): `{mfa_required: true, mfa_token}` and no tokens; send the token and a code to "
                    "`/auth/2fa/verify/`. A blocked user with the right password: 401 `account_blocked`.",
        responses={200: PolymorphicProxySerializer(
            component_name="LoginResult", serializers=[serializers.TokenPairSerializer,
                                                       serializers.MfaRequiredSerializer], resource_type_field_name=None),
            **ERRORS, 401: _error("Wrong email or password (`invalid_credentials`); a blocked user (`account_blocked`)")},
    )
    def post(self, request):
        serializer = serializers.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].strip().lower()
        password = serializer.validated_data["password"]
        user = check_credentials(request, email=email, password=password)
        if user is None:
            # A blocked user is told so only with the right password (api.backends).
            blocked = getattr(request._request, BLOCKED_FLAG, False)
            raise exceptions.AccountBlocked() if blocked else exceptions.InvalidCredentials()
        if mfa.is_enabled(user):
            # The password alone is not a login: nothing is recorded as one until the second factor.
            return Response({"mfa_required": True, "mfa_token": mfa.challenge_create(user=user)})
        tokens = sessions.issue_tokens(user)
        logged_in(request, user)
        return Response(tokens)


class RefreshView(APIView):
    """A refresh token is good for one exchange; presenting a used one revokes every token of its user."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=serializers.RefreshSerializer, responses={
        200: serializers.TokenPairSerializer, **ERRORS,
        401: _error("Bad, expired, revoked or already used refresh token; a used one also revokes every token "
                    "of its user (`token_invalid`): log in again"),
    })
    def post(self, request):
        body = serializers.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(sessions.refresh_tokens(raw=body.validated_data["refresh"]))


class PasswordChangeThrottle(LoginThrottle):
    """The login rate, per (IP, user): guessing the current password here is as slow as at login."""

    def get_ident_key(self, request, view):
        return f"{client_ip(request)}:{request.user.pk}"


class PasswordChangeView(APIView):
    """Change one's password. Checking the current one is a login attempt like any other (lockout,
    risk rules); afterwards every token issued before the change is revoked."""

    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        request=serializers.PasswordChangeSerializer,
        responses={
            204: OpenApiResponse(description="Password changed; every token issued before is revoked"),
            400: _error("Wrong current password (a failed login: it counts towards the lockout) or a new password "
                        "the password rules refuse (`validation_error`)"),
            401: ERRORS[401],
            429: _error("Throttled, or locked out after repeated failed logins (`throttled`, `locked_out`)"),
        },
    )
    def post(self, request):
        body = serializers.PasswordChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user
        if check_credentials(request, email=user.email, password=body.validated_data["current_password"]) is None:
            message = "The current password is incorrect."
            raise exceptions.InvalidInput(message, details={"current_password": [message]})
        logged_in(request, user)
        new_password = body.validated_data["new_password"]
        errors = serializers.password_errors(new_password, user)
        if errors:
            raise exceptions.InvalidInput(f"new_password: {errors[0]}", details={"new_password": errors})
        sessions.password_change(user=user, new_password=new_password)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=serializers.RefreshSerializer, responses={205: OpenApiResponse(description="Logged out"), **ERRORS})
    def post(self, request):
        body = serializers.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            RefreshToken(body.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise exceptions.TokenInvalid() from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = serializers.MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user
