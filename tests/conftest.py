import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from api.services.house import forget_house_accounts
from risk.services import forget_suppressed

from .factories import AccountFactory, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """House account numbers are cached per process; a test flush may recreate them. Same for the
    risk rules' per-process memo of incidents already recorded."""
    forget_house_accounts()
    forget_suppressed()
    yield
    forget_house_accounts()
    forget_suppressed()


def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
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
