"""Two-factor authentication (contract v1.2): enrol, confirm, disable, and the login's second step."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.throttles import AnonThrottle, LoginThrottle, UserThrottle

from .. import exceptions, serializers
from ..services import mfa, sessions
from .auth import PasswordChangeThrottle, check_credentials, logged_in
from .common import ERRORS, ErrorSerializer
from .stepup import refuse_if_locked_out, second_factor_failed

TAG = ["2fa"]


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


def _invalid(field: str, message: str) -> exceptions.InvalidInput:
    return exceptions.InvalidInput(message, details={field: [message]})


class TwoFactorSetupView(APIView):
    throttle_classes = [UserThrottle]

    @extend_schema(
        tags=TAG, request=None, summary="Start enrolling an authenticator",
        description="A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) and its `otpauth://` URI for a QR code. "
                    "Not active until `/auth/2fa/confirm/` receives a code from it; calling again replaces a "
                    "pending secret. Refused (400) while two-factor authentication is on.",
        responses={200: serializers.TwoFactorSetupSerializer, 400: _error("2FA is already on (`validation_error`)"),
                   401: ERRORS[401]},
    )
    def post(self, request):
        secret, url = mfa.mfa_setup(user=request.user)
        response = Response({"secret": secret, "otpauth_url": url})
        response["Cache-Control"] = "no-store"
        return response


class TwoFactorConfirmView(APIView):
    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorCodeSerializer, summary="Turn two-factor authentication on",
        description="Send a current code from the authenticator just set up. Answers the ten single-use recovery "
                    "codes, shown this once (only their hashes are kept). From now on logins and large payments "
                    "ask for a code; the user gets a `security_alert` notification.",
        responses={200: serializers.RecoveryCodesSerializer,
                   400: _error("Wrong code, no pending setup, or 2FA already on (`validation_error`)"),
                   401: ERRORS[401]},
    )
    def post(self, request):
        body = serializers.TwoFactorCodeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        codes = mfa.mfa_confirm(user=request.user, code=body.validated_data["code"])
        if codes is None:
            raise _invalid("code", "The code is wrong or was already used.")
        response = Response({"recovery_codes": codes})
        response["Cache-Control"] = "no-store"
        return response


class TwoFactorDisableView(APIView):
    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorDisableSerializer, summary="Turn two-factor authentication off",
        description="Needs the password and a current code (or a recovery code). A wrong password or code is a "
                    "failed login (lockout, risk rules), answered 400. The user gets a `security_alert`.",
        responses={204: OpenApiResponse(description="2FA is off; the recovery codes are gone"),
                   400: _error("Wrong password or code, or 2FA is not on (`validation_error`)"),
                   401: ERRORS[401],
                   429: _error("Throttled, or locked out after repeated failed logins (`throttled`, `locked_out`)")},
    )
    def post(self, request):
        body = serializers.TwoFactorDisableSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user
        if not mfa.is_enabled(user):
            raise _invalid("code", "Two-factor authentication is not on.")
        if check_credentials(request, email=user.email, password=body.validated_data["password"]) is None:
            raise _invalid("password", "The password is incorrect.")
        if not mfa.verify_second_factor(user=user, code=body.validated_data["code"], allow_recovery=True):
            second_factor_failed(request, user)
            raise _invalid("code", "The code is wrong or was already used.")
        logged_in(request, user)
        mfa.mfa_disable(user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwoFactorVerifyView(APIView):
    """The second step of a login with 2FA on."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, LoginThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorVerifySerializer, summary="Finish a login with a second factor",
        description="`mfa_token` comes from `POST /auth/jwt/create/` when 2FA is on; it lives 5 minutes and is good "
                    "for one successful verification. `code` is a current TOTP code (each accepted once) or an "
                    "unused recovery code. A wrong code is a failed login exactly like a wrong password: it counts "
                    "towards the lockout of the (email, IP) pair and the risk rules.",
        examples=[OpenApiExample("TOTP", value={"mfa_token": "q3Xn...", "code": "492039"}, request_only=True)],
        responses={200: serializers.TokenPairSerializer,
                   401: _error("Wrong, reused or expired code, or an expired, used or unknown `mfa_token` "
                               "(`otp_invalid`: for a bad `mfa_token`, log in again); a blocked user "
                               "(`account_blocked`)"),
                   400: ERRORS[400],
                   429: _error("Throttled, or locked out after repeated failed logins (`throttled`, `locked_out`)")},
    )
    def post(self, request):
        body = serializers.TwoFactorVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, code = body.validated_data["mfa_token"], body.validated_data["code"]
        user = mfa.challenge_user(token)
        if user is None:
            raise exceptions.OtpInvalid("The mfa_token is invalid, used or expired; log in again.",
                                        details={"mfa_token": ["Invalid, used or expired."]})
        refuse_if_locked_out(request, user)
        if user.blocked_at is not None or not user.is_active:
            raise exceptions.AccountBlocked()
        verified = mfa.challenge_verify(token=token, code=code)
        if verified is None:
            second_factor_failed(request, user)
            raise exceptions.OtpInvalid()
        tokens = sessions.issue_tokens(verified)
        logged_in(request, verified)
        return Response(tokens)
