"""Dual control (four eyes, contracts v1.1 and v1.3): staff commands that wait for a second approver.

Held as a pending :class:`~api.models.Approval` holding the command's validated input:

- a reversal requested by staff without the approve permission;
- a deposit that takes the requester's deposits to the same customer in the bank day (Asia/Amman),
  this one included, above ``DUAL_CONTROL_THRESHOLD`` (JOD-equivalent at current rates), for staff
  without the approve permission; every later one that day is held too (held ones count);
- whoever asks, a deposit that takes that same sum above ``DUAL_CONTROL_CEILING``;
- a daily-limit increase by staff without the approve permission (``api.services.accounts``).

The sum is read under a lock on the requester's row, so concurrent small deposits cannot each see room
for one more. Approving runs the same service as the direct call, under a row lock on the request: two
approvers cannot both apply it. Nobody decides a request about their own accounts
(``api.services.conflicts``), and a blocked or deactivated requester's pending requests are cancelled
(:func:`cancel_pending_of`). The API and the admin both call these functions.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import exceptions, money
from ..bankday import bank_day, day_start
from ..locks import lock_user
from ..models import Account, Approval, Transaction, User
from ..roles import Power, may
from .audit import Action, audit
from .conflicts import refuse_own
from .fx import current_rates
from .transfers import check_amount, deposit, reverse_transaction


def deposited_today(staff: User, owner_id) -> Decimal:
    """JOD-equivalent of ``staff``'s deposits to ``owner_id``'s accounts since the bank day began: the ones
    made (whatever became of them) and the ones requested and not approved (an approved one is a deposit)."""
    since = day_start(bank_day())
    rates = current_rates()[0]
    made = Transaction.objects.filter(kind=Transaction.Kind.DEPOSIT, initiated_by=staff,
                                      receiver_account__owner_id=owner_id, created_at__gte=since)
    held = Approval.objects.filter(action=Approval.Action.DEPOSIT, requested_by=staff, account__owner_id=owner_id,
                                   created_at__gte=since).exclude(status=Approval.Status.APPROVED)
    rows = [*made.values_list("amount", "currency"), *held.values_list("amount", "currency")]
    return sum((money.to_base(amount, currency, rates) for amount, currency in rows), Decimal(0))


def needs_approval(staff: User, action: str, amount: Decimal, currency: str, owner_id=None) -> bool:
    """Whether the command waits for a second approver (see the module's rules). For a deposit the caller
    holds the lock on ``staff``'s row (:func:`staff_deposit`)."""
    approver = may(staff, Power.DECIDE_APPROVAL)
    if action != Approval.Action.DEPOSIT:
        return not approver
    total = deposited_today(staff, owner_id) + money.to_base(amount, currency, current_rates()[0])
    if total > Decimal(settings.DUAL_CONTROL_CEILING):
        return True
    return not approver and total > Decimal(settings.DUAL_CONTROL_THRESHOLD)


def _request(*, staff: User, action: str, amount: Decimal, currency: str, description: str,
             account: Account | None = None, target: Transaction | None = None) -> Approval:
    approval = Approval.objects.create(action=action, amount=amount, currency=currency, description=description,
                                       account=account, target_transaction=target, requested_by=staff)
    audit(actor=staff, action=Action.APPROVAL_REQUEST, object_type="approval", object_id=approval.pk, changes={
        "action": [None, action], "status": [None, approval.status],
        "object": [None, account.pk if account is not None else str(target.pk)],
        "amount": [None, money.fmt(amount, currency)], "currency": [None, currency],
    })
    return approval


def request_limit_change(*, staff: User, account: Account, daily_limit: Decimal, reason: str = "") -> Approval:
    """A daily-limit increase held for a second approver (api.services.accounts decides when)."""
    return _request(staff=staff, action=Approval.Action.LIMIT_CHANGE, amount=daily_limit, currency=account.currency,
                    description=reason or "Daily limit increase", account=account)


@db_transaction.atomic
def staff_deposit(*, staff: User, account_number: str, amount: Decimal, description: str = "",
                  idempotency_key: str | None = None) -> Transaction | Approval:
    """A teller's cash deposit: made at once, or held for approval when above the threshold."""
    account = Account.objects.filter(pk=account_number, role=Account.Role.CUSTOMER).first()
    if account is None:
        raise exceptions.NotFound("Account not found.")
    refuse_own(staff, owner_ids=[account.owner_id])
    check_amount(amount, account.currency)
    # The day's sum of this requester's deposits is read and extended by one at a time, and a block of
    # the requester (which takes the same lock) either comes first (refused here) or cancels what this made.
    lock_active_staff(staff)
    if needs_approval(staff, Approval.Action.DEPOSIT, amount, account.currency, owner_id=account.owner_id):
        return _request(staff=staff, action=Approval.Action.DEPOSIT, amount=amount, currency=account.currency,
                        description=description, account=account)
    return deposit(staff=staff, account_number=account_number, amount=amount, description=description,
                   idempotency_key=idempotency_key)


@db_transaction.atomic
def staff_reversal(*, staff: User, transaction_id, reason: str,
                   idempotency_key: str | None = None) -> Transaction | Approval:
    """Reverse a transaction at once (approvers), or request its reversal (everyone else)."""
    original = Transaction.objects.filter(pk=transaction_id).first()
    if original is None:
        raise exceptions.NotFound("Transaction not found.")
    refuse_own(staff, accounts=[original.sender_account_id, original.receiver_account_id])
    lock_active_staff(staff)
    if not needs_approval(staff, Approval.Action.REVERSAL, original.amount, original.currency):
        return reverse_transaction(staff=staff, transaction_id=transaction_id, reason=reason, idempotency_key=idempotency_key)
    # Refuse now what the approver could only refuse later.
    if original.status == Transaction.Status.REVERSED:
        raise exceptions.AlreadyReversed()
    # One request per transaction: a second would wait beside the first and fail once either is approved.
    # Under the transaction's row lock, so two tellers asking at once make one request.
    Transaction.objects.select_for_update().filter(pk=original.pk).exists()
    pending = Approval.objects.filter(target_transaction=original, status=Approval.Status.PENDING).first()
    if pending is not None:
        raise exceptions.AlreadyReversed(f"A reversal of this transaction already waits for approval "
                                         f"(request {str(pending.pk)[:8]}).")
    if original.kind == Transaction.Kind.REVERSAL or original.status != Transaction.Status.SUCCESS:
        raise exceptions.NotReversible()
    return _request(staff=staff, action=Approval.Action.REVERSAL, amount=original.amount,
                    currency=original.currency, description=reason, target=original)


def lock_active_staff(staff: User) -> None:
    """Lock the staff member's row and refuse them (401 ``account_blocked``) if they were blocked or
    deactivated since their request was authenticated: a block that commits while their request runs
    must not let it through, nor leave a pending request behind (:func:`cancel_pending_of`)."""
    lock_user(staff.pk)
    if not User.objects.filter(pk=staff.pk, is_active=True, blocked_at__isnull=True).exists():
        raise exceptions.AccountBlocked()


def _decide(*, approver: User, approval_id) -> Approval:
    approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None:
        raise exceptions.NotFound("Approval request not found.")
    if approval.status != Approval.Status.PENDING:
        raise exceptions.AlreadyDecided()
    if approval.requested_by_id == approver.pk:
        raise exceptions.Forbidden("A request must be approved or rejected by someone other than its requester.")
    refuse_own(approver, accounts=[approval.account_id], transaction_id=approval.target_transaction_id)
    return approval


@db_transaction.atomic
def approval_approve(*, approver: User, approval_id) -> tuple[Approval, Transaction | Account]:
    """Run the held command exactly as the direct call would, then mark the request approved: the
    transaction of a deposit or a reversal, the account of a limit change.

    The request's row lock is held until commit: a second approver waits, then finds it decided.
    A refused command (e.g. the account was frozen meanwhile) rolls everything back and the
    request stays pending.
    """
    from .accounts import account_limit_apply  # accounts holds limit increases through this module

    approval = _decide(approver=approver, approval_id=approval_id)
    requester = approval.requested_by
    if requester.blocked_at is not None or not requester.is_active:  # cancelled when blocked; never run
        raise exceptions.AlreadyDecided("The requester was blocked or deactivated: the request is void.")
    txn = None
    if approval.action == Approval.Action.DEPOSIT:
        result = txn = deposit(staff=requester, account_number=approval.account_id, amount=approval.amount,
                               description=approval.description, approved_by=approver)
    elif approval.action == Approval.Action.REVERSAL:
        result = txn = reverse_transaction(staff=requester, transaction_id=approval.target_transaction_id,
                                           reason=approval.description, approved_by=approver)
    else:
        result = account_limit_apply(actor=requester, account_number=approval.account_id,
                                     daily_limit=approval.amount, approved_by=approver)
    approval.status, approval.decided_by, approval.decided_at, approval.result = (
        Approval.Status.APPROVED, approver, timezone.now(), txn)
    approval.save(update_fields=["status", "decided_by", "decided_at", "result"])
    changes = {"status": [Approval.Status.PENDING, Approval.Status.APPROVED]}
    if txn is not None:
        changes["transaction"] = [None, txn.pk]
    audit(actor=approver, action=Action.APPROVAL_APPROVE, object_type="approval", object_id=approval.pk,
          changes=changes)
    return approval, result


@db_transaction.atomic
def approval_reject(*, approver: User, approval_id, reason: str) -> Approval:
    approval = _decide(approver=approver, approval_id=approval_id)
    approval.status, approval.decided_by, approval.decided_at, approval.decision_reason = (
        Approval.Status.REJECTED, approver, timezone.now(), reason)
    approval.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit(actor=approver, action=Action.APPROVAL_REJECT, object_type="approval", object_id=approval.pk, changes={
        "status": [Approval.Status.PENDING, Approval.Status.REJECTED], "reason": [None, reason],
    })
    return approval


def cancel_pending_of(*, actor: User, requester: User) -> int:
    """Cancel every pending request of ``requester`` (v1.3: they were blocked or deactivated), audited one by
    one (``approval_cancel``); approving one afterwards is 422 ``already_decided``. Inside the caller's
    transaction, which holds the requester's row lock."""
    pending = list(Approval.objects.select_for_update().filter(requested_by=requester, status=Approval.Status.PENDING))
    now = timezone.now()
    for approval in pending:
        Approval.objects.filter(pk=approval.pk).update(status=Approval.Status.CANCELLED, decided_at=now,
                                                       decision_reason="The requester was blocked or deactivated.")
        audit(actor=actor, action=Action.APPROVAL_CANCEL, object_type="approval", object_id=approval.pk, changes={
            "status": [Approval.Status.PENDING, Approval.Status.CANCELLED], "requested_by": [None, requester.email],
        })
    return len(pending)
