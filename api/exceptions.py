"""Domain errors: each has a stable code from the contract and an HTTP status."""

from nexus.domain import DomainError

__all__ = ["DomainError"]  # api code raises and catches the base through this module too


class InvalidInput(DomainError):
    """Input that can only be judged once the accounts are known (e.g. decimals of their currency)."""

    status_code = 400
    code = "validation_error"
    default_message = "Invalid input."


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    default_message = "Insufficient funds."


class DailyLimitExceeded(DomainError):
    code = "daily_limit_exceeded"
    default_message = "The daily limit of this account would be exceeded."


class SameAccount(DomainError):
    code = "same_account"
    default_message = "Sender and receiver must be different accounts."


class AccountInactive(DomainError):
    code = "account_inactive"
    default_message = "The account is not active."


class ReceiverNotFound(DomainError):
    code = "receiver_not_found"
    default_message = "No active Nexus account has this number."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = "This idempotency key was used for a different request."


class IdempotencyKeyInUse(DomainError):
    status_code = 409
    code = "idempotency_key_in_use"
    default_message = "A request with this idempotency key is still being processed."


class AlreadyReversed(DomainError):
    code = "already_reversed"
    default_message = "This transaction was already reversed."


class NotReversible(DomainError):
    code = "not_reversible"
    default_message = "This transaction cannot be reversed."


class LimitReached(DomainError):
    """A per-customer cap (accounts per user, cards per account) is reached; details say which and how many."""

    code = "limit_reached"
    default_message = "The limit for this resource is reached."


class CardInactive(DomainError):
    code = "card_inactive"
    default_message = "The card is not active."


class Forbidden(DomainError):
    """Allowed to the role in general, refused for this case (e.g. approving one's own request)."""

    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class AlreadyDecided(DomainError):
    code = "already_decided"
    default_message = "This request was already approved or rejected."


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "Email or password is incorrect."


class TokenInvalid(DomainError):
    """A bad, forged, expired refresh, revoked or used token: the client must log in again."""

    status_code = 401
    code = "token_invalid"
    default_message = "Token is invalid or expired; log in again."


class RefreshTokenReused(TokenInvalid):
    default_message = "This refresh token was already used; every session of this user has been revoked."


class LockedOut(DomainError):
    """A locked-out (email, IP) pair: every surface answers alike, with how long the lockout lasts
    (``details.retry_after`` and the ``Retry-After`` header, in seconds)."""

    status_code = 429
    code = "locked_out"
    default_message = "Too many failed login attempts; try again later."

    @classmethod
    def for_request(cls, request) -> "LockedOut":
        from axes.helpers import get_cool_off

        cool_off = get_cool_off(getattr(request, "_request", request))
        error = cls(details={"retry_after": int(cool_off.total_seconds()) if cool_off else 1800})
        error.retry_after = error.details["retry_after"]
        return error


class AmountTooSmall(DomainError):
    code = "amount_too_small"
    default_message = "The amount is too small to convert: it would credit nothing."


class BalanceLimit(DomainError):
    code = "balance_limit"
    default_message = "The operation would take a balance past what the account can hold."


class OtpInvalid(DomainError):
    """A wrong, reused or expired second factor at login (or an expired ``mfa_token``)."""

    status_code = 401
    code = "otp_invalid"
    default_message = "The code is wrong or was already used."


class AccountBlocked(DomainError):
    status_code = 401
    code = "account_blocked"
    default_message = "This account is blocked; contact the bank."


class OtpRequired(DomainError):
    """Step-up: a payment this large needs a current code in ``otp``."""

    status_code = 403
    code = "otp_required"
    default_message = "A payment this large needs a current code from your authenticator in 'otp'."


class StepUpInvalid(DomainError):
    status_code = 403
    code = "otp_invalid"
    default_message = "The code is wrong or was already used."


class BlacklistRefused(DomainError):
    """v1.3: a blacklist entry that could lock the bank out (too wide, or covering the requester, a trusted
    proxy or loopback). ``details.reason`` says which."""

    code = "blacklist_refused"
    default_message = "This range cannot be blacklisted."
