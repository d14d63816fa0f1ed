"""Staff control of users (contracts v1.2, v1.3): block, unblock, end every session, reset 2FA,
deactivate. Audited and notified.

Each takes effect on the user's very next request on every worker and node: the state is the user
row (``blocked_at``, ``token_version``, ``is_active``), which every authenticated request and every
back-office session reads, and open WebSockets are closed through the channel layer once the change
commits. Every session ends through one service, ``api.services.sessions.end_sessions``.
"""

from django.db import transaction
from django.utils import timezone

from .. import exceptions
from ..locks import lock_user
from ..models import User
from . import approvals, mfa, notifications, sessions
from .audit import Action, audit
from .conflicts import refuse_own


def _target(actor: User, user_id) -> User:
    lock_user(user_id)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise exceptions.NotFound("User not found.")
    refuse_own(actor, user_id=user.pk)
    if outranks(user, actor):
        raise exceptions.Forbidden("Only staff holding every permission of this staff member may block them or "
                                   "end their sessions.")
    return user


def outranks(user: User, actor: User) -> bool:
    """No lock-out upwards: a Risk analyst must not be able to cut off a Supervisor or the superuser (the
    admin shows its Block buttons by the same rule)."""
    return user.is_staff and not actor.is_superuser and (
        user.is_superuser or not user.get_all_permissions() <= actor.get_all_permissions())


@transaction.atomic
def user_block(*, actor: User, user_id, reason: str) -> User:
    """No login (401 ``account_blocked``) and no token works any more, until :func:`user_unblock`."""
    user = _target(actor, user_id)
    if user.blocked_at is None:
        user.blocked_at, user.blocked_reason = timezone.now(), reason
        User.objects.filter(pk=user.pk).update(blocked_at=user.blocked_at, blocked_reason=reason)
        sessions.end_sessions(user)
        audit(actor=actor, action=Action.USER_UPDATE, object_type="user", object_id=user.email,
              changes={"blocked": [False, True], "blocked_reason": ["", reason]})
        approvals.cancel_pending_of(actor=actor, requester=user)
        notifications.security_alert(user_id=user.pk, event="account_blocked", title="Your account is blocked",
                                     body="The bank has blocked your account; contact the bank.")
    return user


@transaction.atomic
def user_unblock(*, actor: User, user_id, reason: str = "") -> User:
    """Logins work again; tokens issued before the block stay revoked."""
    user = _target(actor, user_id)
    if user.blocked_at is not None:
        before = user.blocked_reason
        user.blocked_at, user.blocked_reason = None, ""
        User.objects.filter(pk=user.pk).update(blocked_at=None, blocked_reason="")
        changes = {"blocked": [True, False], "blocked_reason": [before, ""]}
        if reason:
            changes["unblock_reason"] = [None, reason]
        audit(actor=actor, action=Action.USER_UPDATE, object_type="user", object_id=user.email, changes=changes)
        notifications.security_alert(user_id=user.pk, event="account_unblocked", title="Your account is unblocked",
                                     body="You can log in again.")
    return user


@transaction.atomic
def user_revoke_sessions(*, actor: User, user_id, reason: str = "") -> User:
    """Every access and refresh token issued to the user before now stops working; they may log in again."""
    user = _target(actor, user_id)
    before = user.token_version
    sessions.end_sessions(user)
    changes = {"token_version": [before, user.token_version]}
    if reason:
        changes["reason"] = [None, reason]
    audit(actor=actor, action=Action.USER_UPDATE, object_type="user", object_id=user.email, changes=changes)
    notifications.security_alert(user_id=user.pk, event="sessions_revoked", title="You were logged out everywhere",
                                 body="The bank ended every session of your account; log in again.")
    return user


@transaction.atomic
def user_reset_2fa(*, actor: User, user_id, reason: str) -> User:
    """v1.3: a customer who lost their authenticator gets back in. Their 2FA is off, their recovery codes
    void and every session ended; audited (``twofa_reset``) and notified."""
    user = _target(actor, user_id)
    was_on = mfa.is_enabled(user)
    mfa.mfa_disable(user=user, notify=False)
    sessions.end_sessions(user)
    audit(actor=actor, action=Action.TWOFA_RESET, object_type="user", object_id=user.email,
          changes={"two_factor_enabled": [was_on, False], "reason": [None, reason]})
    notifications.security_alert(user_id=user.pk, event="two_factor_reset", title="Two-factor authentication reset",
                                 body="The bank turned two-factor authentication off and ended every session. "
                                      "Log in with your password and set up your authenticator again.")
    return user


def user_deactivated(*, actor: User | None, user: User) -> None:
    """A user was just deactivated (the admin's user form): every session ends everywhere and their pending
    requests are cancelled, in the caller's transaction (the audit of the flag is the caller's)."""
    lock_user(user.pk)
    sessions.end_sessions(user)
    approvals.cancel_pending_of(actor=actor, requester=user)
