"""Step-up across requests (contract v1.3): splitting a payment does not escape the second factor.

A payment (an external transfer or a bill) made without a code needs one when, together with the
user's other payments made without a code in the preceding 24 hours, it is worth at least
``STEP_UP_DAILY_TOTAL`` (JOD at current rates). The single-payment rule (``STEP_UP_THRESHOLD``) is
``api.services.mfa.needs_step_up``; a payment confirmed with a code counts towards neither.

How it is counted: each payment made without a code records the user's running total of such payments
(``Transaction.uncoded_total``, the latest also on the user's row, ``User.uncoded_total``), so the
total of the last 24 hours is the latest value minus the latest one from before the window: one
statement whatever the number of payments. Both are read under a lock on the user's row, so concurrent
payments from several accounts take turns: ten small requests at once see each other exactly as ten in
a row do.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from .. import money, queries
from ..models import Account, User
from .fx import current_rates
from .mfa import step_up_refusal

WINDOW = timedelta(hours=24)


def lock_for_uncoded_payment(user: User, accounts=()) -> tuple[tuple[Decimal, Decimal], dict[str, Account]]:
    """Lock the user's row until the payment commits, before its accounts, and read (the running total,
    the one recorded at the window's start): payments made without a code from any of the user's accounts
    take turns, so each reads the total the one before it left. Then lock the payment's ``accounts`` as
    ``api.locks.lock_accounts`` does, in the same statement; returns (the totals, the accounts by number)."""
    (last, earlier), locked = queries.lock_user_totals(user.pk, timezone.now() - WINDOW, sorted(set(accounts)))
    return (last or Decimal(0), earlier or Decimal(0)), {account.pk: account for account in locked}


def uncoded_payment(*, user: User, amount: Decimal, currency: str, totals: tuple[Decimal, Decimal]) -> Decimal:
    """Admit a payment made without a code, or refuse it (403 ``otp_required``) when the last 24 hours'
    payments without a code and this one reach ``STEP_UP_DAILY_TOTAL``. ``totals`` come from
    :func:`lock_for_uncoded_payment`. Returns the running total to record on the payment (``uncoded_total``)."""
    last, earlier = totals
    value = money.to_base(amount, currency, current_rates()[0])
    total = Decimal(settings.STEP_UP_DAILY_TOTAL)
    if last - earlier + value >= total:
        refusal = step_up_refusal(user)
        if not refusal.details:
            refusal.message = ("Together with your payments made without a code in the last 24 hours, this one "
                               "needs a code: send otp.")
        refusal.details = {**(refusal.details or {}), "reason": "daily_total",
                           "step_up_daily_total": money.fmt(total, "JOD")}
        raise refusal
    return last + value
