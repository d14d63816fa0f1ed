import importlib

import pytest
from django.apps import apps as django_apps
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from rest_framework.test import APIClient

from nexus import refcache

from .factories import AccountFactory, StaffFactory, UserFactory, bearer


@receiver(post_migrate, dispatch_uid="tests.reseed_reference_data")
def _reseed_reference_data(sender, **kwargs):
    """A transactional test ends with a flush, which empties every table, the data migrations' too,
    then sends post_migrate: put back what those migrations seed (house accounts, billers, FX rates,
    staff roles), so the next test starts from the same database as a fresh deployment."""
    if sender is not list(django_apps.get_app_configs())[-1]:
        return  # once, after every app's permissions are back
    importlib.import_module("api.migrations.0002_ledger_integrity_and_seed").seed(django_apps, None)
    from api import roles

    for label in ("api", "risk", "axes", "business"):
        roles.sync(django_apps, label)


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    """Reference data is cached per process for a few seconds (nexus.refcache); a test rebuilds the
    database under it (house accounts recreated after a flush, rates and blacklist entries added)."""
    refcache.clear()
    yield
    refcache.clear()


def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def client_for():
    return auth_client


@pytest.fixture
def user_client(user):
    return auth_client(user)


@pytest.fixture
def staff_client(staff):
    return auth_client(staff)


@pytest.fixture
def account_factory(db):
    return AccountFactory


@pytest.fixture
def no_step_up(settings):
    """For tests about something else than step-up (contract v1.2) that move large amounts: no code asked."""
    settings.STEP_UP_THRESHOLD = "1000000000000"
