from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view
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
from .common import errors, request_example, response_example

# Shapes only: a real token is three base64url parts, hundreds of characters long.
TOKENS_EXAMPLE = {"access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                  "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"}


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
        raise exceptions.LockedOut.for_request(request)
    return user


def logged_in(request, user) -> None:
    """Django's ``user_logged_in``, as a session login sends it: axes resets the pair's failures, the
    risk app records the login, Django stamps ``last_login``."""
    user_logged_in.send(sender=type(user), request=request._request, user=user)


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, RegisterThrottle]

    @extend_schema(
        summary="Register a customer",
        description="Creates a customer (never staff). The email is stored lower-case and must be free; the "
                    "password needs at least 12 characters, not a common one, not all digits, not close to the "
                    "email or names. Then log in with `POST /auth/jwt/create/`. Limited to a few registrations "
                    "per hour per IP address.",
        request=serializers.RegisterSerializer,
        responses={201: serializers.RegisterSerializer, **errors(
            (exceptions.InvalidInput, "the email is taken, or the password is too weak (see `details`)."))},
        examples=[request_example("New customer", {"email": "dana@example.com", "password": "Olive-Harbour-1987",
                                                   "first_name": "Dana", "last_name": "Saleh", "country": "JO"})],
    )
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
        summary="Log in (get a token pair)",
        description="Exchanges email and password for an access token (15 minutes: send it as "
                    "`Authorization: Bearer <access>`) and a refresh token (7 days, good for one exchange at "
                    "`POST /auth/jwt/refresh/`). Five failures for one email from one IP address lock that "
                    "pair out for 30 minutes (429 `locked_out`, even with the right password). **With two-factor "
                    "authentication on** (v1.2) the answer is `{mfa_required: true, mfa_token}` and no tokens: send "
                    "the ticket and a code to `POST /auth/2fa/verify/` within 5 minutes. A user blocked by staff "
                    "is told so (401 `account_blocked`) only with the right password.",
        request=serializers.LoginSerializer,
        responses={200: PolymorphicProxySerializer(
            component_name="LoginResult", serializers=[serializers.TokenPairSerializer,
                                                       serializers.MfaRequiredSerializer],
            resource_type_field_name=None), **errors(
            exceptions.InvalidCredentials, exceptions.AccountBlocked,
            (exceptions.LockedOut, "five failed logins for this email from this IP address: wait 30 minutes."))},
        examples=[request_example("Demo customer", {"email": "alice@nexus.local", "password": "Alice-Demo-Pass-2026"}),
                  response_example("Token pair", TOKENS_EXAMPLE, status=200)],
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
            return Response(serializers.MfaRequiredSerializer(
                {"mfa_required": True, "mfa_token": mfa.challenge_create(user=user)}).data)
        tokens = sessions.issue_tokens(user)
        logged_in(request, user)
        return Response(serializers.TokenPairSerializer(tokens).data)


class RefreshView(APIView):

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Refresh (exchange a refresh token for a new pair)",
        description="Answers a new access token and a new refresh token; the refresh token sent is used up. "
                    "Presenting a used refresh token again means it was copied: every refresh token of its user "
                    "is revoked and the answer is 401 `token_invalid` (log in again). Of concurrent refreshes "
                    "with one token exactly one succeeds.",
        request=serializers.RefreshSerializer,
        responses={200: serializers.TokenPairSerializer, **errors(
            (exceptions.TokenInvalid, "the refresh token is malformed, expired, revoked or already used (then every "
                                      "token of its user is revoked), or its user is gone: log in again."))},
        examples=[request_example("Refresh token", {"refresh": TOKENS_EXAMPLE["refresh"]}),
                  response_example("New pair", TOKENS_EXAMPLE, status=200)],
    )
    def post(self, request):
        body = serializers.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tokens = sessions.refresh_tokens(raw=body.validated_data["refresh"])
        return Response(serializers.TokenPairSerializer(tokens).data)


class PasswordChangeThrottle(LoginThrottle):
    """The login rate, per (IP, user): guessing the current password here is as slow as at login."""

    def get_ident_key(self, request, view):
        return f"{client_ip(request)}:{request.user.pk}"


class PasswordChangeView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)

    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        summary="Change my password",
        description="Checking the current password is a login attempt like any other: a wrong one counts "
                    "towards the lockout and the risk rules. Afterwards every token issued before the change, "
                    "access and refresh, answers 401: log in again with the new password.",
        request=serializers.PasswordChangeSerializer,
        responses={
            204: OpenApiResponse(description="Password changed; every token issued before is revoked."),
            **errors((exceptions.InvalidInput, "the current password is wrong (a failed login), or the new one is "
                                               "too weak (see `details`)."),
                     (exceptions.LockedOut, "five failed attempts for this account from this IP address.")),
        },
        examples=[request_example("New password", {"current_password": "Alice-Demo-Pass-2026",
                                                   "new_password": "Quiet-Lantern-4417"})],
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

    @extend_schema(
        summary="Log out (revoke a refresh token)",
        description="The refresh token sent can no longer be exchanged. Access tokens already issued stay valid "
                    "until they expire (15 minutes at most); to end every session at once, change the password.",
        request=serializers.RefreshSerializer,
        responses={205: OpenApiResponse(description="Logged out."), **errors(
            (exceptions.TokenInvalid, "the refresh token is malformed, expired or already revoked."))},
        examples=[request_example("Refresh token", {"refresh": TOKENS_EXAMPLE["refresh"]})],
    )
    def post(self, request):
        body = serializers.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            RefreshToken(body.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise exceptions.TokenInvalid() from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


@extend_schema_view(
    get=extend_schema(summary="My profile", description="The caller's own user: staff or not, and since when."),
    patch=extend_schema(
        summary="Update my profile",
        description="Names and country only. Email, staff status, activity and balances cannot be changed here.",
        examples=[request_example("New surname", {"last_name": "Haddad-Saleh"})],
    ),
)
class MeView(generics.RetrieveUpdateAPIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    serializer_class = serializers.MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user
