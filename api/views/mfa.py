"""Two-factor authentication (contract v1.2): enrol, confirm, disable, and the login's second step."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from nexus.throttles import AnonThrottle, LoginThrottle, UserThrottle

from .. import exceptions, serializers
from ..services import mfa, sessions
from .auth import TOKENS_EXAMPLE, PasswordChangeThrottle, check_credentials, logged_in
from .common import errors, request_example, response_example

TAG = ["two-factor"]
LOCKED_OUT = (exceptions.LockedOut, "too many failed logins (passwords or codes) for this email from this IP address: "
                                    "wait 30 minutes.")


def _invalid(field: str, message: str) -> exceptions.InvalidInput:
    return exceptions.InvalidInput(message, details={field: [message]})


class TwoFactorSetupView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorSetupRequestSerializer, summary="Start enrolling an authenticator",
        description="Needs the account's password: an access token alone (a stolen one) cannot enrol a second "
                    "factor. A wrong password is a failed login (lockout, risk rules), answered 401 "
                    "`invalid_credentials`. Answers a new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) and its "
                    "`otpauth://` URI for a QR code. Not active until `/auth/2fa/confirm/` receives a code from "
                    "it; calling again replaces a pending secret. Refused (400) while two-factor authentication "
                    "is on.",
        responses={200: serializers.TwoFactorSetupSerializer,
                   **errors((exceptions.InvalidInput, "two-factor authentication is already on."),
                            (exceptions.InvalidCredentials, "the password is wrong (a failed login)."), LOCKED_OUT)},
        examples=[request_example("The password", {"password": "Alice-Demo-Pass-2026"}),
                  response_example("A new secret", {
            "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "otpauth_url": "otpauth://totp/Nexus%20Bank:alice%40nexus.local?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                           "&issuer=Nexus%20Bank"}, status=200)],
    )
    def post(self, request):
        body = serializers.TwoFactorSetupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if check_credentials(request, email=request.user.email, password=body.validated_data["password"]) is None:
            raise exceptions.InvalidCredentials()
        logged_in(request, request.user)
        secret, url = mfa.mfa_setup(user=request.user)
        response = Response(serializers.TwoFactorSetupSerializer({"secret": secret, "otpauth_url": url}).data)
        response["Cache-Control"] = "no-store"
        return response


class TwoFactorConfirmView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorCodeSerializer, summary="Turn two-factor authentication on",
        description="Send a current code from the authenticator just set up. Answers the ten single-use recovery "
                    "codes, shown this once (only their hashes are kept). From now on logins and large payments "
                    "ask for a code; the user gets a `security_alert` notification.",
        responses={200: serializers.RecoveryCodesSerializer, **errors(
            (exceptions.InvalidInput, "the code is wrong or already used, no setup is pending, or 2FA is on already."))},
        examples=[request_example("A code from the app", {"code": "492039"}),
                  response_example("Recovery codes", {"recovery_codes": [
                      "7kq2-m9xd", "p4hz-3wct", "v8rn-k2fy", "c6tb-x5qe", "h3mw-9dpa",
                      "r7jc-4nzu", "e2vx-t8kg", "y5pd-6hbm", "n9fa-2qws", "u4ge-7rkc"]}, status=200)],
    )
    def post(self, request):
        body = serializers.TwoFactorCodeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        codes = mfa.mfa_confirm(user=request.user, code=body.validated_data["code"])
        if codes is None:
            raise _invalid("code", "The code is wrong or was already used.")
        response = Response(serializers.RecoveryCodesSerializer({"recovery_codes": codes}).data)
        response["Cache-Control"] = "no-store"
        return response


class TwoFactorDisableView(APIView):
    personal_write = True  # the user's own credentials or inbox (nexus.permissions.StaffWhoOnlyRead)
    throttle_classes = [UserThrottle, PasswordChangeThrottle]

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorDisableSerializer, summary="Turn two-factor authentication off",
        description="Needs the password and a current code (or a recovery code). A wrong password or code is a "
                    "failed login (lockout, risk rules), answered 400. The user gets a `security_alert`.",
        responses={204: OpenApiResponse(description="2FA is off; the recovery codes are gone."), **errors(
            (exceptions.InvalidInput, "the password or the code is wrong (a failed login), or 2FA is not on."),
            LOCKED_OUT)},
        examples=[request_example("Password and a code", {"password": "Alice-Demo-Pass-2026", "code": "492039"})],
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
            mfa.second_factor_failed(request._request, user)
            raise _invalid("code", "The code is wrong or was already used.")
        logged_in(request, user)
        mfa.mfa_disable(user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwoFactorVerifyView(APIView):
    """The second step of a login with 2FA on."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, LoginThrottle]
    throttle_subject = "mfa_token"  # the login rate per (IP, login ticket), as per (IP, email) at login

    @extend_schema(
        tags=TAG, request=serializers.TwoFactorVerifySerializer, summary="Finish a login with a second factor",
        description="`mfa_token` comes from `POST /auth/jwt/create/` when 2FA is on; it lives 5 minutes and is good "
                    "for one successful verification. `code` is a current TOTP code (each accepted once) or an "
                    "unused recovery code. A wrong code is a failed login exactly like a wrong password: it counts "
                    "towards the lockout of the (email, IP) pair and the risk rules.",
        examples=[request_example("A TOTP code", {"mfa_token": "q3XnV0l2b8cT4yR9wE6uJ1mK5sD7fG0hA", "code": "492039"}),
                  response_example("Token pair", TOKENS_EXAMPLE, status=200)],
        responses={200: serializers.TokenPairSerializer, **errors(
            (exceptions.OtpInvalid, "the code is wrong or already used (ask again, same `mfa_token`), or the "
                                    "`mfa_token` is expired, used or unknown (log in again)."),
            exceptions.AccountBlocked, LOCKED_OUT)},
    )
    def post(self, request):
        body = serializers.TwoFactorVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, code = body.validated_data["mfa_token"], body.validated_data["code"]
        user = mfa.challenge_user(token)
        if user is None:
            raise exceptions.OtpInvalid("The mfa_token is invalid, used or expired; log in again.",
                                        details={"mfa_token": ["Invalid, used or expired."]})
        mfa.refuse_if_locked_out(request._request, user)
        if user.blocked_at is not None or not user.is_active:
            raise exceptions.AccountBlocked()
        verified = mfa.challenge_verify(token=token, code=code)
        if verified is None:
            mfa.second_factor_failed(request._request, user)
            raise exceptions.OtpInvalid()
        tokens = sessions.issue_tokens(verified)
        logged_in(request, verified)
        return Response(serializers.TokenPairSerializer(tokens).data)
