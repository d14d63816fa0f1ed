"""One handler renders every error as ``{"error": {"code", "message", "details"}}``."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .domain import DomainError, error_body
from .outage import database_unavailable
from .renderers import JSONRenderer
from .sql import sqlstate

logger = logging.getLogger("nexus.database")

# DRF exception class -> (stable code, default message). First match wins (subclasses first). A DRF
# exception that carries its own ``contract_code`` (e.g. an expired access token) keeps it.
_DRF_CODES = [
    (InvalidToken, "token_invalid", "Token is invalid or expired."),
    (exceptions.NotAuthenticated, "not_authenticated", "Authentication credentials were not provided."),
    (exceptions.AuthenticationFailed, "token_invalid", "Token is invalid or expired."),
    (exceptions.PermissionDenied, "permission_denied", "You do not have permission to perform this action."),
    (exceptions.NotFound, "not_found", "Not found."),
    (exceptions.MethodNotAllowed, "method_not_allowed", "Method not allowed."),
    (exceptions.NotAcceptable, "not_acceptable", "Not acceptable."),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", "Unsupported media type."),
    (exceptions.Throttled, "throttled", "Too many requests."),
    (exceptions.ValidationError, "validation_error", "Invalid input."),
    (exceptions.ParseError, "validation_error", "Malformed request body."),
]


class ErrorResponse(Response):
    """An error is JSON whatever the view renders otherwise (CSV statements, the YAML schema, the docs' HTML).

    DRF gives every response the renderer the request negotiated, after the exception handler has
    returned; these two attributes ignore that assignment.
    """

    accepted_renderer = property(lambda self: JSONRenderer(), lambda self, value: None)
    accepted_media_type = property(lambda self: "application/json", lambda self, value: None)


def _is_lock_timeout(exc: OperationalError) -> bool:
    return sqlstate(exc) in {"55P03", "57014"}  # lock_not_available, query_canceled


RETRY_AFTER_SECONDS = 2


def service_unavailable_body() -> dict:
    """Log the outage once per request and call ``settings.NEXUS_ON_DATABASE_UNAVAILABLE`` (the embedded
    development server's restart; nothing in production)."""
    logger.warning("database unavailable")
    for hook in settings.NEXUS_ON_DATABASE_UNAVAILABLE:
        import_string(hook)()
    return error_body("service_unavailable", "The database cannot be reached; retry shortly.")


def exception_handler(exc, context):
    set_rollback()
    headers = {}
    if isinstance(exc, DomainError):
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        return ErrorResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TokenError):
        exc = InvalidToken()
    elif database_unavailable(exc):
        # Whatever the request had written is uncommitted, and PostgreSQL discards it: nothing half-done.
        response = Response(service_unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        response._has_been_logged = True  # one warning per request (above), not an ERROR from django.request
        return response
    elif isinstance(exc, OperationalError) and _is_lock_timeout(exc):
        return ErrorResponse(
            error_body("busy", "The resource is busy, retry shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler (no traceback page outside DEBUG)

    code, message = next(
        ((code, message) for cls, code, message in _DRF_CODES if isinstance(exc, cls)), ("error", "Request failed.")
    )
    code = getattr(exc, "contract_code", None) or code
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    details = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(details) or message
    elif isinstance(exc.detail, str) and exc.detail:
        message = str(exc.detail)
    return ErrorResponse(error_body(code, message, details), status=exc.status_code, headers=headers)


def _first_message(details) -> str:
    if isinstance(details, dict):
        for field, value in details.items():
            text = _first_message(value)
            if text:
                return text if field == "non_field_errors" else f"{field}: {text}"
    elif isinstance(details, list) and details:
        return _first_message(details[0])
    elif details:
        return str(details)
    return ""
