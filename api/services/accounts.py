import hashlib
import hmac
import secrets
from calendar import monthrange
from datetime import date

from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from nexus.aftercommit import send_after_commit

from .. import exceptions
from ..identifiers import new_card_number
from ..models import Account, Card, User
from ..signals import user_registered

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


def account_open(*, owner: User, type: str) -> Account:
    """A new account always starts at zero; money only enters through a posting."""
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


def card_issue(*, account: Account, card_type: str) -> tuple[Card, str, str]:
    """Issue a card. Returns the card and, once only, its full number and CVV (neither is stored)."""
    if not account.is_active:
        raise exceptions.AccountInactive(details={"account": account.pk})
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


def account_set_active(*, account: Account, is_active: bool) -> None:
    Account.objects.filter(pk=account.pk).update(is_active=is_active, updated_at=timezone.now())
