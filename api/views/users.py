"""Staff control of users (contract v1.2): block, unblock, revoke sessions (Supervisor, Risk analyst)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.roles import Power
from nexus.permissions import StaffPermission

from .. import exceptions, serializers
from ..services import users
from .common import NOT_FOUND, errors, request_example

TAG = ["users"]
PERMISSION = {"POST": [Power.BLOCK_USER]}
REFUSALS = errors(NOT_FOUND, (exceptions.Forbidden, "staff cannot block or end the sessions of themselves."))
REASON = [request_example("With a reason", {"reason": "Customer reported the phone stolen (call 2026-11-30 10:12)"})]


class UserControlView(APIView):
    """One staff action on a user: validate the body, run the service, answer the user (or 204)."""

    permission_classes = [StaffPermission]
    staff_permissions = PERMISSION
    body_class = serializers.UnblockSerializer
    service = None
    answers_user = True

    def post(self, request, pk):
        body = self.body_class(data=request.data)
        body.is_valid(raise_exception=True)
        user = type(self).service(actor=request.user, user_id=pk, reason=body.validated_data["reason"])
        if not self.answers_user:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializers.StaffUserSerializer(user).data)


@extend_schema_view(post=extend_schema(
    tags=TAG, request=serializers.BlockSerializer, summary="Block a user",
    description="The user can no longer log in (401 `account_blocked`) and every token they hold stops working "
                "at once, on every worker (their open WebSockets close with 4401). Audited (`user_update`), "
                "notified to the user (`security_alert`). Blocking a blocked user changes nothing. Staff cannot "
                "block themselves (403).",
    responses={200: serializers.StaffUserSerializer, **REFUSALS},
    examples=REASON,
))
class UserBlockView(UserControlView):
    body_class = serializers.BlockSerializer
    service = staticmethod(users.user_block)


@extend_schema_view(post=extend_schema(
    tags=TAG, request=serializers.UnblockSerializer, summary="Unblock a user",
    description="The user may log in again; tokens issued before the block stay revoked. Audited, notified.",
    responses={200: serializers.StaffUserSerializer, **REFUSALS},
    examples=REASON,
))
class UserUnblockView(UserControlView):
    service = staticmethod(users.user_unblock)


@extend_schema_view(post=extend_schema(
    tags=TAG, request=serializers.UnblockSerializer, summary="End every session of a user",
    description="Every refresh and access token issued to the user before now answers 401 from the next "
                "request on, on every worker; their open WebSockets close with 4401. The user may log in again. "
                "Audited (`user_update`), notified (`security_alert`).",
    responses={204: OpenApiResponse(description="Every session ended"), **REFUSALS},
    examples=REASON,
))
class UserRevokeSessionsView(UserControlView):
    service = staticmethod(users.user_revoke_sessions)
    answers_user = False


@extend_schema_view(post=extend_schema(
    tags=TAG, request=serializers.BlockSerializer, summary="Reset a user's two-factor authentication",
    description="For a customer who lost their authenticator: their 2FA is turned off, their recovery codes are "
                "void and every session ends (API tokens, back-office sessions, WebSockets). They log in with "
                "their password and enrol again. Audited (`twofa_reset`), notified (`security_alert`). Supervisors "
                "only; never on oneself (403).",
    responses={200: serializers.StaffUserSerializer, **errors(
        NOT_FOUND, (exceptions.Forbidden, "the user is yourself, or holds permissions you do not."))},
    examples=[request_example("With a reason", {"reason": "Lost phone; identity checked at branch 12 (ID card)"})],
))
class UserResetTwoFactorView(UserControlView):
    staff_permissions = {"POST": [Power.RESET_TWO_FACTOR]}
    body_class = serializers.BlockSerializer
    service = staticmethod(users.user_reset_2fa)
