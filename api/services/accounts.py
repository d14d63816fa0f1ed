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

from nexus.aftercommit import send_after_commit

from .. import exceptions, money
from ..identifiers import new_card_number
from ..locks import lock_accounts, lock_user
from ..models import Account, Card, User
from ..signals import user_registered
from .audit import Action, audit, diff

CARD_PREFIX = {Card.Type.DEBIT: "4", Card.Type.CREDIT: "5"}
CARD_YEARS = 4


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "", country: str = "") -> User:
    try:
        with db_transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name, country=country
            )
            send_after_commit(user_registered, sender=User, user=user)
    except IntegrityError as exc:  # a concurrent registration won the unique index
        raise exceptions.InvalidInput(
            "A user with this email already exists.", details={"email": ["A user with this email already exists."]}
        ) from exc
    return user


def _check_limit(count: int, limit: int, resource: str, message: str) -> None:
    if count >= limit:
        raise exceptions.LimitReached(message, details={"resource": resource, "limit": limit})


@db_transaction.atomic
def account_open(*, owner: User, type: str) -> Account:
    """A new account always starts at zero; money only enters through a posting.

    At most MAX_ACCOUNTS_PER_USER per customer, counted under a lock on the user's row so that
    concurrent requests cannot each see room for one more.
    """
    lock_user(owner.pk)
    limit = settings.MAX_ACCOUNTS_PER_USER
    _check_limit(Account.objects.filter(owner=owner, role=Account.Role.CUSTOMER).count(), limit, "accounts",
                 f"A customer may have at most {limit} accounts.")
    return Account.objects.create(
        owner=owner,
        type=type,
        currency=Account.TYPE_CURRENCY[type],
        daily_limit=Account.DEFAULT_DAILY_LIMIT,
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
    _check_limit(Card.objects.filter(account_id=account.pk).count(), limit, "cards",
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


@db_transaction.atomic
def account_update(*, actor: User, account_number: str, is_active: bool | None = None,
                   daily_limit: Decimal | None = None) -> Account:
    """Staff freeze, unfreeze or change the daily limit of a customer account; audited.

    Under the account's row lock, and writing only these columns: a transfer committed meanwhile
    keeps its balance.
    """
    account = lock_accounts([account_number]).get(account_number)
    if account is None or account.role != Account.Role.CUSTOMER:
        raise exceptions.NotFound("Account not found.")
    fields = {}
    if is_active is not None:
        fields["is_active"] = is_active
    if daily_limit is not None:
        if not money.fits_currency(daily_limit, account.currency):
            message = f"{account.currency} amounts have at most {money.MINOR_UNITS[account.currency]} decimal places."
            raise exceptions.InvalidInput(message, details={"daily_limit": [message]})
        fields["daily_limit"] = daily_limit
    shown = {"is_active": account.is_active, "daily_limit": money.fmt(account.daily_limit, account.currency)}
    changes = diff(shown, {name: money.fmt(value, account.currency) if name == "daily_limit" else value
                           for name, value in fields.items()})
    if changes:
        Account.objects.filter(pk=account.pk).update(**fields, updated_at=timezone.now())
        for name, value in fields.items():
            setattr(account, name, value)
        audit(actor=actor, action=Action.ACCOUNT_UPDATE, object_type="account", object_id=account.pk,
              changes=changes)
    return account


def user_snapshot(user: User) -> dict:
    """What staff may change about a user that the audit trail records (contract: staff or active flag)."""
    return {"is_active": user.is_active, "is_staff": user.is_staff, "is_superuser": user.is_superuser,
            "groups": sorted(user.groups.values_list("name", flat=True))}


def user_update_recorded(*, actor: User, user: User, before: dict) -> None:
    """Audit what changed since ``before`` (a :func:`user_snapshot`), inside the caller's transaction."""
    changes = diff(before, user_snapshot(user))
    if changes:
        audit(actor=actor, action=Action.USER_UPDATE, object_type="user", object_id=user.email, changes=changes)
