"""Dual control (four eyes, contract v1.1): staff money commands that wait for a second approver.

A deposit above ``settings.DUAL_CONTROL_THRESHOLD`` (JOD-equivalent at current rates) or a
reversal, requested by staff without the approve permission, is held as a pending
:class:`~api.models.Approval` holding the command's validated input. Approving runs the same
service as the direct call, under a row lock on the request: two approvers cannot both apply it.
The API and the admin both call these functions.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import exceptions, money
from ..models import Account, Approval, Transaction, User
from .audit import Action, audit
from .fx import current_rates
from .transfers import check_amount, deposit, reverse_transaction

APPROVE_PERMISSION = "api.decide_approval"


def needs_approval(staff: User, action: str, amount: Decimal, currency: str) -> bool:
    if staff.has_perm(APPROVE_PERMISSION):
        return False
    if action == Approval.Action.REVERSAL:
        return True
    threshold = Decimal(settings.DUAL_CONTROL_THRESHOLD)
    return money.to_base(amount, currency, current_rates()[0]) > threshold


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


@db_transaction.atomic
def staff_deposit(*, staff: User, account_number: str, amount: Decimal, description: str = "",
                  idempotency_key: str | None = None) -> Transaction | Approval:
    """A teller's cash deposit: made at once, or held for approval when above the threshold."""
    account = Account.objects.filter(pk=account_number, role=Account.Role.CUSTOMER).first()
    if account is None:
        raise exceptions.NotFound("Account not found.")
    check_amount(amount, account.currency)
    if needs_approval(staff, Approval.Action.DEPOSIT, amount, account.currency):
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
    if not needs_approval(staff, Approval.Action.REVERSAL, original.amount, original.currency):
        return reverse_transaction(staff=staff, transaction_id=transaction_id, reason=reason, idempotency_key=idempotency_key)
    # Refuse now what the approver could only refuse later.
    if original.status == Transaction.Status.REVERSED:
        raise exceptions.AlreadyReversed()
    if original.kind == Transaction.Kind.REVERSAL or original.status != Transaction.Status.SUCCESS:
        raise exceptions.NotReversible()
    return _request(staff=staff, action=Approval.Action.REVERSAL, amount=original.amount,
                    currency=original.currency, description=reason, target=original)


def _decide(*, approver: User, approval_id) -> Approval:
    approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None:
        raise exceptions.NotFound("Approval request not found.")
    if approval.status != Approval.Status.PENDING:
        raise exceptions.AlreadyDecided()
    if approval.requested_by_id == approver.pk:
        raise exceptions.Forbidden("A request must be approved or rejected by someone other than its requester.")
    return approval


@db_transaction.atomic
def approval_approve(*, approver: User, approval_id) -> tuple[Approval, Transaction]:
    """Run the held command exactly as the direct call would, then mark the request approved.

    The request's row lock is held until commit: a second approver waits, then finds it decided.
    A refused command (e.g. the account was frozen meanwhile) rolls everything back and the
    request stays pending.
    """
    approval = _decide(approver=approver, approval_id=approval_id)
    requester = approval.requested_by
    if approval.action == Approval.Action.DEPOSIT:
        txn = deposit(staff=requester, account_number=approval.account_id, amount=approval.amount,
                      description=approval.description)
    else:
        txn = reverse_transaction(staff=requester, transaction_id=approval.target_transaction_id, reason=approval.description)
    approval.status, approval.decided_by, approval.decided_at, approval.result = (
        Approval.Status.APPROVED, approver, timezone.now(), txn)
    approval.save(update_fields=["status", "decided_by", "decided_at", "result"])
    audit(actor=approver, action=Action.APPROVAL_APPROVE, object_type="approval", object_id=approval.pk, changes={
        "status": [Approval.Status.PENDING, Approval.Status.APPROVED], "transaction": [None, txn.pk],
    })
    return approval, txn


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
