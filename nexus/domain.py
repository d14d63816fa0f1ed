"""Refusals: the base class of domain errors, and the one shape every error answer has.

A domain error is a refusal with a stable code from the contract and an HTTP status. Apps subclass it
(api/exceptions.py); ``nexus.exceptions.exception_handler`` renders any of them raised in a DRF view and
rolls the transaction back. Everything else that refuses a request in JSON (middleware, Django's own
error views, django-axes' lockout answer, the IP blacklist) answers with :func:`json_error`, so every
error of the API, from any layer, is ``{"error": {"code", "message", "details"}}`` built by
:func:`error_body`. Kept apart from the handler so that nothing here imports DRF.
"""

from django.http import JsonResponse


class DomainError(Exception):
    status_code = 422
    code = "business_rule"
    default_message = "The operation was refused."

    def __init__(self, message: str | None = None, *, details: dict | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def json_error(code: str, message: str, status: int, details=None, headers=None) -> JsonResponse:
    """An error answered outside DRF's views, in the contract's shape."""
    return JsonResponse(error_body(code, message, details), status=status, headers=headers)


def refusal(error: DomainError) -> JsonResponse:
    """A domain error answered outside DRF's views (with its ``Retry-After`` when it has one)."""
    retry_after = getattr(error, "retry_after", None)
    return json_error(error.code, error.message, error.status_code, error.details,
                      headers={"Retry-After": str(retry_after)} if retry_after else None)
