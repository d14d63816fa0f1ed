from decimal import Decimal

from django.db import transaction as db_transaction

from .. import exceptions
from ..locks import lock_accounts
from ..models import Biller, BillPayment, Transaction, User
from . import stepup
from .fx import price
from .ledger import book
from .transfers import check_amount, check_daily_limit, check_funds, conversion_legs, require_active


@db_transaction.atomic(savepoint=False)
def bill_pay(*, user: User, account_number: str, biller_id: int, amount: Decimal, reference: str,
             idempotency_key: str | None = None, stepped_up: bool = False) -> BillPayment:
    """Pay ``amount`` (in the biller's currency) from one of the user's accounts, converting if needed.
    ``stepped_up``: a second-factor code confirmed it (else api.services.stepup's daily total applies)."""
    biller = Biller.objects.filter(pk=biller_id, is_active=True).first()
    if biller is None:
        raise exceptions.InvalidInput("Unknown biller.", details={"biller": ["Unknown biller."]})
    check_amount(amount, biller.currency)
    totals = None
    if stepped_up:
        locked = lock_accounts([account_number])
    else:  # the user's row before the accounts, in one statement
        totals, locked = stepup.lock_for_uncoded_payment(user, [account_number])
    account = locked.get(account_number)
    if account is None or account.owner_id != user.pk:
        raise exceptions.NotFound("Account not found.")
    uncoded_total = None
    if totals is not None:  # the step-up (403) comes before the business rules (422)
        uncoded_total = stepup.uncoded_payment(user=user, amount=amount, currency=biller.currency, totals=totals)
    require_active(account)
    # The biller must receive the whole amount: the debit is its price, rounded up (the bank's side, as
    # every conversion).
    debited, fx_rate = price(amount, account.currency, biller.currency)
    check_daily_limit(account, debited)
    check_funds(account, debited)
    txn = book(
        locked=locked,
        legs=conversion_legs(
            source=account.currency, debit_account=account.pk, amount=debited,
            target=biller.currency, credit_account=biller.settlement_account_id, credited=amount,
        ),
        kind=Transaction.Kind.BILL, sender_account=account, receiver_account_id=biller.settlement_account_id,
        amount=debited, currency=account.currency, credited_amount=amount, credited_currency=biller.currency,
        fx_rate=fx_rate, description=f"{biller.name} {reference}", idempotency_key=idempotency_key,
        initiated_by=user, uncoded_total=uncoded_total,
    )
    return BillPayment.objects.create(
        account=account, biller=biller, amount=amount, currency=biller.currency, debited_amount=debited,
        reference=reference, transaction=txn, created_at=txn.created_at,
    )
