"""How step-up for large payments is documented on the operations that have it (external transfers,
bills, standing orders). The rule itself is the request service's (api.services.money_request,
api.services.commands.Payment, api.services.mfa.confirm_step_up)."""

from .. import exceptions

STEP_UP_RULES = (
    " **Step-up**: an amount worth at least `STEP_UP_THRESHOLD` (500 JOD by default) at the current rates needs "
    "`otp`, a current code from the user's authenticator. Missing: 403 `otp_required` (its details say to enrol "
    "when the user has no 2FA); wrong or already used: 403 `otp_invalid`, counted as a failed login towards the "
    "lockout. Nothing moves either way. Input is checked first (400), then the code (403), then the business "
    "rules (422). An idempotent replay of a request already applied is answered without a code."
)
STEP_UP_ERRORS = (
    (exceptions.OtpRequired, "the amount is worth at least `STEP_UP_THRESHOLD` and `otp` is missing, or the user "
                             "has no 2FA to confirm it with."),
    (exceptions.StepUpInvalid, "`otp` is wrong, or was already used."),
    (exceptions.LockedOut, "too many wrong codes or passwords for this email from this IP address."),
)
