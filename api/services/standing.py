"""Standing orders (contract v1.3): paying the same amount on a schedule, each run exactly once.

How a run is owed and carried out:

1. **Owed.** When an order's next date has come (``next_run_on`` <= the bank day), one transaction locks
   the order, writes a ``standing_order_due`` job (``nexus.jobs``) for that date and moves
   ``next_run_on`` past the day. Creating an order due today does it at once (the worker carries it
   out within a poll, well inside the contract's 60 seconds); the scheduler's daily task
   (``settings.NEXUS_SCHEDULE``, early on each bank day) does it for the others. A date can be owed only
   once: the order's row lock and ``next_run_on`` say which dates are left. A worker that was down over
   an order's dates owes the latest one when it comes back, once: an order never pays twice to catch up.
2. **Carried out.** The worker hands the jobs to :func:`carry_out_runs`, in its batch's transaction.
   Each run is a money request of the owner under the idempotency key ``standing-order·<order>·<date>``
   (``api.services.money_request``, as a client's request) and transfers as the customer would: internal to
   one of their own accounts, external otherwise (fee, FX, daily limit, screening, notifications and
   figures as for any transfer). The run row, unique per (order, date), commits with the transfer.
3. **Refused.** A business rule's refusal rolls the transfer back (a savepoint) and records the run as
   refused with its code, a ``standing_order_refused`` notification and the refusal's figures; the
   order stays active for its next date. A frozen or closed sender account is refused this way
   (``account_inactive``): no money moves. A cancelled order's owed runs are dropped.

Runs are payments the customer authorised when creating the order: they need no second factor and do
not count towards ``STEP_UP_DAILY_TOTAL``; creating the order does (api.services.stepup), as a payment.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from nexus import jobs

from .. import exceptions
from ..bankday import bank_day, latest_run_on_or_before, next_run_after
from ..locks import lock_user
from ..models import Account, StandingOrder, StandingOrderRun, Transaction, User
from ..reactions import owe_refusal
from . import money_request, stepup
from .accounts import check_limit
from .audit import Action, audit
from .conflicts import refuse_own
from .fx import quote
from .notifications import standing_order_refused
from .transfers import check_amount, require_active, transfer_external, transfer_internal

DUE = "standing_order_due"  # the job topic of an owed run (settings.NEXUS_JOB_HANDLERS)
Status = StandingOrder.Status


def idempotency_key(order_id, run_on: dt.date) -> str:
    """The run's key, with a character no client's key can hold (keys are printable ASCII,
    ``money_request.KEY_PATTERN``): no request can take a run's key before the run, or wait on it."""
    return f"standing-order\u00b7{order_id}\u00b7{run_on.isoformat()}"


@transaction.atomic
def create_order(*, user: User, sender_number: str, receiver_number: str, amount: Decimal, interval: str,
                 first_date: dt.date, end_date: dt.date | None = None, description: str = "",
                 stepped_up: bool = False) -> StandingOrder:
    """A new active order; its first run is owed at once when ``first_date`` is today.

    ``stepped_up``: a second-factor code confirmed it (else it counts towards the day's payments made
    without one, as a payment does, and may need one: 403 ``otp_required``)."""
    if sender_number == receiver_number:
        raise exceptions.SameAccount()
    # The user's row is locked either way, so the count of active orders below is exact.
    totals = None
    if stepped_up:
        lock_user(user.pk)
    else:
        totals, _ = stepup.lock_for_uncoded_payment(user)
    accounts = Account.objects.in_bulk([sender_number, receiver_number])
    sender, receiver = accounts.get(sender_number), accounts.get(receiver_number)
    if sender is None or sender.owner_id != user.pk or sender.role != Account.Role.CUSTOMER:
        raise exceptions.NotFound("Sender account not found.")
    check_amount(amount, sender.currency)
    uncoded_total = None
    if totals is not None:  # the step-up (403) before the business rules (422), as for a transfer
        uncoded_total = stepup.uncoded_payment(user=user, amount=amount, currency=sender.currency, totals=totals)
    if receiver is None or receiver.role != Account.Role.CUSTOMER or not receiver.is_active:
        raise exceptions.ReceiverNotFound()
    require_active(sender)
    quote(amount, sender.currency, receiver.currency)  # an amount that would credit nothing: 422 now, not each run
    limit = settings.MAX_STANDING_ORDERS_PER_USER
    check_limit(StandingOrder.objects.filter(owner=user, status=Status.ACTIVE).count(), limit, "standing_orders",
                f"A customer may have at most {limit} active standing orders.")
    order = StandingOrder.objects.create(
        owner=user, sender_account=sender, receiver_account=receiver, amount=amount, currency=sender.currency,
        description=description, interval=interval, first_date=first_date, end_date=end_date,
        next_run_on=first_date, uncoded_total=uncoded_total)
    if uncoded_total is not None:
        User.objects.filter(pk=user.pk).update(uncoded_total=uncoded_total)
    today = bank_day()
    if first_date <= today:
        _owe_run(order, today)
    return order


def _owe_run(order: StandingOrder, today: dt.date) -> None:
    """Owe the latest date of ``order`` on or before ``today`` (its row locked, or just created) and move
    ``next_run_on`` past ``today``."""
    last_day = min(today, order.end_date) if order.end_date else today
    run_on = latest_run_on_or_before(order.first_date, order.interval, last_day)
    following = next_run_after(order.first_date, order.interval, today)
    if order.end_date and following > order.end_date:
        order.status, order.next_run_on = Status.FINISHED, None
    else:
        order.next_run_on = following
    order.save(update_fields=["status", "next_run_on"])
    jobs.enqueue(DUE, key=order.pk, payload={"run_on": run_on.isoformat()})


def owe_due_runs(*, slot: dt.datetime) -> None:
    """The scheduler's daily task (``settings.NEXUS_SCHEDULE``): owe every active order's run due on the
    bank day of ``slot``, or before it and not yet owed (the worker was down)."""
    today = bank_day(slot)
    due = (StandingOrder.objects.select_for_update().filter(status=Status.ACTIVE, next_run_on__lte=today)
           .order_by("next_run_on", "id"))
    for order in due:
        _owe_run(order, today)


def carry_out_runs(job_list) -> None:
    """``settings.NEXUS_JOB_HANDLERS[DUE]``: carry out owed runs, in the worker's transaction."""
    for job in job_list:
        _carry_out(job.key, dt.date.fromisoformat(job.payload["run_on"]))


def _carry_out(order_id, run_on: dt.date) -> None:
    order = (StandingOrder.objects.select_for_update(of=("self",)).select_related("owner", "receiver_account")
             .filter(pk=order_id).first())
    if order is None or order.status == Status.CANCELLED:
        return  # cancelled after the run was owed: later runs never happen
    if StandingOrderRun.objects.filter(order=order, run_on=run_on).exists():
        return  # carried out already (the job is gone with it; this is a guard, not a path)
    run = _Run(order)
    try:  # a savepoint: a refusal rolls back the transfer (its key is recorded with it, or not at all)
        outcome = money_request.run(user=order.owner, key=idempotency_key(order.pk, run_on), scope="standing_order_run",
                                    payload={"order": order.pk, "run_on": run_on}, command=run)
    except exceptions.DomainError as exc:
        _refused(order, run_on, exc, run.kind)
        return
    if outcome.replayed:
        return  # the key's transfer committed already: never twice
    StandingOrderRun.objects.create(order=order, run_on=run_on, status=StandingOrderRun.Status.SUCCEEDED,
                                    transaction=outcome.result)


@dataclass(frozen=True)
class _Run(money_request.Command):
    """One run: a transfer from the owner, internal to one of their own accounts, external otherwise."""

    order: StandingOrder
    answers_posting = True  # its answer is the transfer it posts

    @property
    def kind(self):
        internal = self.order.receiver_account.owner_id == self.order.owner_id
        return Transaction.Kind.INTERNAL if internal else Transaction.Kind.EXTERNAL

    @property
    def reported_account(self):
        return self.order.sender_account_id

    def execute(self, *, user, key, stepped_up):
        order = self.order
        return (transfer_internal if self.kind == Transaction.Kind.INTERNAL else transfer_external)(
            user=user, sender_number=order.sender_account_id, receiver_number=order.receiver_account_id,
            amount=order.amount, description=order.description or "Standing order", idempotency_key=key,
            stepped_up=True)  # authorised when the order was created


def _refused(order: StandingOrder, run_on: dt.date, exc: exceptions.DomainError, kind: str) -> None:
    StandingOrderRun.objects.create(order=order, run_on=run_on, status=StandingOrderRun.Status.REFUSED,
                                    error_code=exc.code)
    standing_order_refused(order=order, run_on=run_on, code=exc.code)
    if exc.status_code != 422:  # a 422 was owed as a refusal by the request service already
        owe_refusal(user_id=order.owner_id, kind=kind, code=exc.code, account=order.sender_account_id)


# --- cancelling ------------------------------------------------------------------------------------

def _cancel(order: StandingOrder, by: User, reason: str = "") -> bool:
    if order.status != Status.ACTIVE:
        return False
    order.status, order.next_run_on = Status.CANCELLED, None
    order.cancelled_at, order.cancelled_by, order.cancel_reason = timezone.now(), by, reason
    order.save(update_fields=["status", "next_run_on", "cancelled_at", "cancelled_by", "cancel_reason"])
    return True


@transaction.atomic
def cancel_order(*, user: User, order_id) -> StandingOrder:
    """The customer cancels their own order (another's is 404): no later run happens. Cancelling an order
    that is no longer active changes nothing."""
    order = StandingOrder.objects.select_for_update().filter(pk=order_id, owner=user).first()
    if order is None:
        raise exceptions.NotFound("Standing order not found.")
    _cancel(order, user)
    return order


@transaction.atomic
def staff_cancel(*, staff: User, order_id, reason: str) -> StandingOrder:
    """Staff cancel a customer's order with a reason, audited (never their own: 403)."""
    order = StandingOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise exceptions.NotFound("Standing order not found.")
    if not reason.strip():
        raise exceptions.InvalidInput("Give a reason.", details={"reason": ["This field may not be blank."]})
    refuse_own(staff, user_id=order.owner_id)
    before = order.status
    if _cancel(order, staff, reason.strip()):
        audit(actor=staff, action=Action.STANDING_ORDER_CANCEL, object_type="standing_order", object_id=order.pk,
              changes={"status": [before, order.status], "reason": [None, order.cancel_reason]})
    return order
