"""The audit trail (contract v1.1): one append-only record per staff action on money or risk state.

Every service that performs such an action calls :func:`audit` inside its own database
transaction, so the record commits or rolls back with the action, whichever path (API, admin,
command) called the service. The request's id and client IP come from ``nexus.context``.
"""

from decimal import Decimal

from nexus.context import current_request

from ..models import AuditRecord, User

Action = AuditRecord.Action


def _plain(value):
    """JSON-safe and exact: Decimals and other objects as strings, None and bools as they are."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple | set):
        return [_plain(item) for item in value]
    return str(value)


def diff(before: dict, after: dict) -> dict:
    """``{field: [before, after]}`` for the fields whose value changed."""
    return {name: [_plain(before.get(name)), _plain(value)] for name, value in after.items()
            if _plain(before.get(name)) != _plain(value)}


def audit(*, actor: User | None, action: str, object_type: str, object_id, changes: dict,
          approved_by: User | None = None) -> AuditRecord:
    """Record one staff action. ``changes`` is ``{field: [before, after]}`` (see :func:`diff`).

    ``approved_by``: the action is ``actor``'s request held for dual control, carried out now because
    ``approved_by`` approved it. The record's actor is then the approver, who made it happen, and the
    requester is kept in its changes (``requested_by``): the same for every held command (a deposit, a
    reversal, a limit increase)."""
    if approved_by is not None:
        changes = {**changes, "requested_by": [None, actor.email]}
        actor = approved_by
    request = current_request()
    return AuditRecord.objects.create(
        actor=actor, actor_email=getattr(actor, "email", "") or "system", action=action,
        object_type=object_type, object_id=str(object_id),
        changes={name: [_plain(old), _plain(new)] for name, (old, new) in changes.items()},
        ip=request.ip, request_id=request.request_id,
    )
