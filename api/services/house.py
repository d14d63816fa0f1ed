"""House (bank-owned) accounts: never updated in the money path; their balance is the sum of their entries.

A data migration creates one per role and currency. Transfers never lock them; a reversal locks the
accounts its mirrored legs touch, house accounts included (api.locks).
"""

from django.core.exceptions import ImproperlyConfigured

from nexus.refcache import cached

from ..models import Account

HOUSE_ROLES = (Account.Role.VAULT, Account.Role.FEES, Account.Role.FX)
# The numbers never change once created: reference data (nexus.refcache).


def _numbers() -> dict[tuple[str, str], str]:
    return {(role, currency): number for role, currency, number in
            Account.objects.filter(role__in=HOUSE_ROLES).values_list("role", "currency", "account_number")}


def house_account_number(role: str, currency: str) -> str:
    """Number of the house account of this role and currency."""
    number = cached("house_account_numbers", _numbers).get((role, currency))
    if number is None:
        raise ImproperlyConfigured(f"No {role} house account in {currency}: run the migrations.")
    return number
