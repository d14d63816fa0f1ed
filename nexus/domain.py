"""The base class of domain errors: a refusal with a stable code from the contract and an HTTP status.

Apps subclass it (api/exceptions.py); ``nexus.exceptions.exception_handler`` renders any of them in the
contract's error shape and rolls the transaction back. Kept apart from the handler so that an app's
exceptions module imports nothing of DRF's views.
"""


class DomainError(Exception):
    status_code = 422
    code = "business_rule"
    default_message = "The operation was refused."

    def __init__(self, message: str | None = None, *, details: dict | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)
