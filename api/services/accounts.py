import hashlib
import hmac
import secrets
from calendar import monthrange
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import exceptions, money
from ..identifiers import new_card_number
from ..locks import lock_accounts, lock_user
from ..models import Account, Approval, Card, User
from ..roles import Power, may
from . import approvals
from .audit import Action, audit, diff
from .conflicts import refuse_own

CARD_PREFIX = {Card.Type.DEBIT: "4", Card.Type.CREDIT: "5"}
CARD_YEARS = 4


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "", country: str = "") -> User:
    try:
        with db_transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name, country=country
            )
    except IntegrityError as exc:  # a concurrent registration won the unique index
        raise exceptions.InvalidInput(
            "A user with this email already exists.", details={"email": ["A user with this email already exists."]}
        ) from exc
    return user


def check_limit(count: int, limit: int, resource: str, message: str) -> None:
    if count >= limit:
        raise exceptions.LimitReached(message, details={"resource": resource, "limit": limit})


@db_transaction.atomic
def account_open(*, owner: User, type: str, account_number: str | None = None) -> Account:
    """A new account always starts at zero; money only enters through a posting. Its number is random
    unless given (``seed_demo``'s fixed numbers, which the documentation's examples use).

    At most MAX_ACCOUNTS_PER_USER per customer, counted under a lock on the user's row so that
    concurrent requests cannot each see room for one more.
    """
    lock_user(owner.pk)
    limit = settings.MAX_ACCOUNTS_PER_USER
    check_limit(Account.objects.filter(owner=owner, role=Account.Role.CUSTOMER).count(), limit, "accounts",
                 f"A customer may have at most {limit} accounts.")
    return Account.objects.create(
        owner=owner,
        type=type,
        currency=Account.TYPE_CURRENCY[type],
        daily_limit=Account.DEFAULT_DAILY_LIMIT,
        **({"account_number": account_number} if account_number else {}),
    )


def card_fingerprint(number: str) -> str:
    return hmac.new(settings.CARD_FINGERPRINT_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()


def _expiry(today: date) -> date:
    year = today.year + CARD_YEARS
    return date(year, today.month, monthrange(year, today.month)[1])


@db_transaction.atomic
def card_issue(*, account: Account, card_type: str) -> tuple[Card, str, str]:
    """Issue a card. Returns the card and, once only, its full number and CVV (neither is stored).

    At most MAX_CARDS_PER_ACCOUNT per account (frozen cards count: they can be unfrozen), counted
    under the account's row lock.
    """
    locked = lock_accounts([account.pk]).get(account.pk)
    if locked is None or not locked.is_active:
        raise exceptions.AccountInactive(details={"account": account.pk})
    limit = settings.MAX_CARDS_PER_ACCOUNT
    check_limit(Card.objects.filter(account_id=account.pk).count(), limit, "cards",
                 f"An account may have at most {limit} cards.")
    for _ in range(5):
        number = new_card_number(CARD_PREFIX[card_type])
        fingerprint = card_fingerprint(number)
        if not Card.objects.filter(fingerprint=fingerprint).exists():
            break
    cvv = f"{secrets.randbelow(1000):03d}"
    card = Card.objects.create(
        account=account, card_type=card_type, last4=number[-4:], fingerprint=fingerprint,
        expiration_date=_expiry(timezone.localdate()),
    )
    return card, number, cvv


def card_set_active(*, card: Card, is_active: bool) -> Card:
    Card.objects.filter(pk=card.pk).update(is_active=is_active)
    card.is_active = is_active
    return card


def account_change_permissions(*, is_active: bool | None = None, daily_limit=None) -> list[str]:
    """The permissions a change needs: freezing, unfreezing and the daily limit are separate powers."""
    needed = []
    if is_active is not None:
        needed.append(Power.UNFREEZE_ACCOUNT if is_active else Power.FREEZE_ACCOUNT)
    if daily_limit is not None:
        needed.append(Power.CHANGE_DAILY_LIMIT)
    return needed


@db_transaction.atomic
def account_update(*, actor: User, account_number: str, is_active: bool | None = None,
                   daily_limit: Decimal | None = None, reason: str = "") -> Account | Approval:
    """Staff freeze, unfreeze or change the daily limit of a customer account; audited.

    Each change needs its own permission; nobody changes an account of their own (403). A limit increase
    by staff who cannot approve is held for a second approver (the :class:`Approval` is returned, nothing
    changes yet), together with whatever else the request asked (applied at once: freezing never waits).
    Under the account's row lock, and writing only these columns: a transfer committed meanwhile keeps
    its balance.
    """
    account = lock_accounts([account_number]).get(account_number)
    if account is None or account.role != Account.Role.CUSTOMER:
        raise exceptions.NotFound("Account not found.")
    if not actor.has_perms(account_change_permissions(is_active=is_active, daily_limit=daily_limit)):
        raise exceptions.Forbidden("Your role may not make this change to an account.")
    refuse_own(actor, owner_ids=[account.owner_id])
    if daily_limit is not None:
        if not money.fits_currency(daily_limit, account.currency):
            message = f"{account.currency} amounts have at most {money.MINOR_UNITS[account.currency]} decimal places."
            raise exceptions.InvalidInput(message, details={"daily_limit": [message]})
        if daily_limit > account.daily_limit and not may(actor, Power.DECIDE_APPROVAL):
            approvals.lock_active_staff(actor)
            _apply(actor, account, {} if is_active is None else {"is_active": is_active}, reason)
            return approvals.request_limit_change(staff=actor, account=account, daily_limit=daily_limit,
                                                  reason=reason)
    fields = {}
    if is_active is not None:
        fields["is_active"] = is_active
    if daily_limit is not None:
        fields["daily_limit"] = daily_limit
    return _apply(actor, account, fields, reason)


def account_limit_apply(*, actor: User, account_number: str, daily_limit: Decimal, approved_by: User) -> Account:
    """Set the daily limit ``actor`` asked for, once ``approved_by`` approved it (api.services.approvals), in
    the approver's transaction."""
    account = lock_accounts([account_number]).get(account_number)
    if account is None or account.role != Account.Role.CUSTOMER:
        raise exceptions.NotFound("Account not found.")
    return _apply(actor, account, {"daily_limit": daily_limit}, approved_by=approved_by)


def _apply(actor: User, account: Account, fields: dict, reason: str = "", approved_by: User | None = None) -> Account:
    """Write the changed columns of the locked ``account`` and audit them (with the staff's reason)."""
    shown = {"is_active": account.is_active, "daily_limit": money.fmt(account.daily_limit, account.currency)}
    changes = diff(shown, {name: money.fmt(value, account.currency) if name == "daily_limit" else value
                           for name, value in fields.items()})
    if changes:
        Account.objects.filter(pk=account.pk).update(**fields, updated_at=timezone.now())
        for name, value in fields.items():
            setattr(account, name, value)
        audit(actor=actor, action=Action.ACCOUNT_UPDATE, object_type="account", object_id=account.pk,
              changes={**changes, "reason": [None, reason]} if reason else changes, approved_by=approved_by)
    return account


# What the audit trail records about a user that staff may change: the flags (``user_update``) and the
# privileges (v1.3: ``role_change``, for groups, direct permissions and the superuser flag).
USER_FLAGS = ("is_active", "is_staff")
USER_PRIVILEGES = ("is_superuser", "groups", "user_permissions")


def user_snapshot(user: User) -> dict:
    """What staff may change about a user that the audit trail records."""
    return {"is_active": user.is_active, "is_staff": user.is_staff, "is_superuser": user.is_superuser,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "user_permissions": sorted(f"{app}.{code}" for app, code in user.user_permissions.values_list(
                "content_type__app_label", "codename"))}


def user_update_recorded(*, actor: User, user: User, before: dict) -> None:
    """Audit what changed since ``before`` (a :func:`user_snapshot`), inside the caller's transaction; a user
    just deactivated loses every session and their pending requests (api.services.users)."""
    changes = diff(before, user_snapshot(user))
    for action, names in ((Action.USER_UPDATE, USER_FLAGS), (Action.ROLE_CHANGE, USER_PRIVILEGES)):
        part = {name: change for name, change in changes.items() if name in names}
        if part:
            audit(actor=actor, action=action, object_type="user", object_id=user.email, changes=part)
    if changes.get("is_active") == [True, False]:
        from .users import user_deactivated  # users builds on this module's services

        user_deactivated(actor=actor, user=user)


def group_permissions(group) -> list[str]:
    return sorted(f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label",
                                                                                 "codename"))


def group_update_recorded(*, actor: User, group, before: list[str] | None) -> None:
    """v1.3: a role's permissions changed (the admin's group form): audited as ``role_change``."""
    after = group_permissions(group)
    if before != after:
        audit(actor=actor, action=Action.ROLE_CHANGE, object_type="group", object_id=group.name,
              changes={"permissions": [before, after]})


def group_deleted_recorded(*, actor: User, group) -> None:
    """v1.3: a role deleted (its members lose its permissions): audited as ``role_change``, before the delete."""
    members = sorted(group.user_set.values_list("email", flat=True))
    audit(actor=actor, action=Action.ROLE_CHANGE, object_type="group", object_id=group.name,
          changes={"permissions": [group_permissions(group), None], "members": [members, None]})


def password_reset_recorded(*, actor: User, user: User) -> None:
    """v1.3: staff set (or disabled) a user's password (the admin's form, which revoked the tokens)."""
    audit(actor=actor, action=Action.PASSWORD_RESET, object_type="user", object_id=user.email,
          changes={"password": [None, "set by staff" if user.has_usable_password() else "disabled by staff"]})
