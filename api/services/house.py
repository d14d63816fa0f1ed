"""House (bank-owned) accounts: looked up once per process, never locked, never updated."""

from ..models import Account

HOUSE_ROLES = (Account.Role.VAULT, Account.Role.FEES, Account.Role.FX)
HOUSE_TYPE = {"JOD": Account.Type.BASIC, "USD": Account.Type.USD, "EUR": Account.Type.EUR}

_numbers: dict[tuple[str, str], str] = {}


def house_account(role: str, currency: str) -> str:
    """Number of the house account of this role and currency.

    Created by a data migration; created here too if missing (e.g. after a test flush). Only a
    number read back from an existing row is cached, never one created inside a transaction
    that might still roll back.
    """
    key = (role, currency)
    if key not in _numbers:
        account, created = Account.objects.get_or_create(
            role=role,
            currency=currency,
            defaults={"type": HOUSE_TYPE[currency], "name": f"{Account.Role(role).label} {currency}"},
        )
        if created:
            return account.pk
        _numbers[key] = account.pk
    return _numbers[key]


def forget_house_accounts() -> None:
    _numbers.clear()


def ensure_house_accounts() -> None:
    for role in HOUSE_ROLES:
        for currency in HOUSE_TYPE:
            house_account(role, currency)
