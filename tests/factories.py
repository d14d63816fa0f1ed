from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from api import roles
from api.models import Account, Biller, User

PASSWORD = "correct-horse-battery-staple"  # noqa: S105


def bearer(user: User) -> str:
    """The Authorization header of a user who just logged in: tokens issued as the API issues them."""
    from api.services.sessions import issue_tokens

    return f"Bearer {issue_tokens(user)['access']}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    country = "JO"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save(update_fields=["password"])


def role_groups(names) -> list[Group]:
    """The role groups (api.roles) of these names, as the data migrations created them."""
    return list(Group.objects.filter(name__in=names))


class StaffFactory(UserFactory):
    """A staff member holding every role unless ``roles=[...]`` names some (``roles=[]``: none)."""

    is_staff = True
    email = factory.Sequence(lambda n: f"staff{n}@nexus.example")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create:
            self.groups.add(*role_groups(roles.ROLES if extracted is None else extracted))


def grant(user: User, *permissions: str) -> User:
    """Give a user Django permissions ("app_label.codename"), as a staff role's group would."""
    from django.contrib.auth.models import Permission

    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


class AccountFactory(factory.django.DjangoModelFactory):
    """A customer account. Pass ``funded=Decimal(...)`` to give it money through a real deposit."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    type = Account.Type.SAVINGS
    currency = factory.LazyAttribute(lambda o: Account.TYPE_CURRENCY[o.type])

    @factory.post_generation
    def funded(self, create, extracted, **kwargs):
        if create and extracted:
            fund(self, Decimal(extracted))


def fund(account: Account, amount: Decimal) -> None:
    from api.services.transfers import deposit

    staff = User.objects.filter(is_staff=True).first() or StaffFactory()
    deposit(staff=staff, account_number=account.pk, amount=Decimal(amount))
    account.refresh_from_db()


class BillerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Biller

    name = factory.Sequence(lambda n: f"Biller {n}")
    category = Biller.Category.ELECTRICITY
    currency = "JOD"
    settlement_account = factory.LazyAttribute(
        lambda o: Account.objects.create(role=Account.Role.SETTLEMENT, currency=o.currency,
                                         type={"JOD": Account.Type.BASIC}.get(o.currency, o.currency), name=f"Settlement {o.name}")
    )


def totp_code(secret: str, at=None, steps: int = 0) -> str:
    """The RFC 6238 code an authenticator app shows for ``secret`` at ``at`` (now), ``steps`` away."""
    import time

    import pyotp

    moment = (at.timestamp() if at is not None else time.time()) + 30 * steps
    return pyotp.TOTP(secret).at(moment)


def enrol(user: User, at=None) -> tuple[str, list[str]]:
    """Turn 2FA on for ``user`` through the services, with a code computed here: (secret, recovery codes)."""
    from api.services import mfa

    secret, _ = mfa.mfa_setup(user=user)
    codes = mfa.mfa_confirm(user=user, code=totp_code(secret, at))
    assert codes is not None
    return secret, codes
