from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from nexus.throttles import AnonThrottle, LoginThrottle, RegisterThrottle

from .. import exceptions, serializers
from ..services.accounts import user_register
from ..signals import login_attempted
from .common import ERRORS


class InvalidCredentials(exceptions.DomainError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "Email or password is incorrect."


class TokenInvalid(exceptions.DomainError):
    status_code = 401
    code = "token_invalid"
    default_message = "Token is invalid or expired."


class LockedOut(exceptions.DomainError):
    status_code = 429
    code = "locked_out"
    default_message = "Too many failed login attempts; try again later."


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
    """Exchange email and password for a JWT pair. Failures feed django-axes and the risk rules."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [AnonThrottle, LoginThrottle]

    @extend_schema(request=serializers.LoginSerializer, responses={200: serializers.TokenPairSerializer, **ERRORS})
    def post(self, request):
        serializer = serializers.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].strip().lower()
        # axes needs the Django HttpRequest, not DRF's wrapper (axes issues 570, 877, 984).
        http_request = request._request
        user = authenticate(request=http_request, email=email, password=serializer.validated_data["password"])
        if getattr(http_request, "axes_locked_out", False):
            login_attempted.send(sender=LoginView, request=http_request, email=email, user=None, successful=False)
            raise LockedOut()
        if user is None or not user.is_active:
            login_attempted.send(sender=LoginView, request=http_request, email=email, user=None, successful=False)
            raise InvalidCredentials()
        refresh = RefreshToken.for_user(user)
        # No session login happens, so announce it: django-axes resets the failure count on it and
        # Django records last_login.
        user_logged_in.send(sender=type(user), request=http_request, user=user)
        login_attempted.send(sender=LoginView, request=http_request, email=email, user=user, successful=True)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class RefreshView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=serializers.RefreshSerializer, responses={200: serializers.TokenPairSerializer, **ERRORS})
    def post(self, request):
        body = serializers.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        serializer = TokenRefreshSerializer(data=body.validated_data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise TokenInvalid() from exc
        except Exception as exc:  # InvalidToken / AuthenticationFailed (e.g. user gone)
            if getattr(exc, "status_code", None) == 401:
                raise TokenInvalid() from exc
            raise
        return Response(serializer.validated_data)


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
            raise TokenInvalid() from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = serializers.MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user
