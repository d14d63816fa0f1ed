import re

import pytest
from django.apps import apps as django_apps
from django.core import serializers
from django.db import connection
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from rest_framework.test import APIClient

from nexus import refcache

from .factories import AccountFactory, StaffFactory, UserFactory, bearer
from .world import World, build_world

# What the data migrations wrote (house accounts, billers, FX rates, staff roles), as they wrote it.
_REFERENCE_DATA: list[str] = []


def _reference_querysets():
    from django.contrib.auth.models import Group

    from api.models import Account, Biller, FxRate

    # Accounts before the billers that settle into them.
    return [Account.objects.exclude(role=Account.Role.CUSTOMER), Biller.objects.all(), FxRate.objects.all(),
            Group.objects.all()]


@receiver(post_migrate, dispatch_uid="tests.reference_data")
def _keep_reference_data(sender, **kwargs):
    """A transactional test ends with a flush, which empties every table, the data migrations' too, then
    sends post_migrate. The first migrate of the session records the migrations' rows; after every
    flush the same rows come back, same keys and account numbers, so the next test (and a server
    process started for a whole module) sees the database of a fresh deployment."""
    if sender is not list(django_apps.get_app_configs())[-1]:
        return  # once, after every app's permissions are back
    if not _REFERENCE_DATA:
        _REFERENCE_DATA.extend(serializers.serialize("json", queryset, use_natural_foreign_keys=True)
                               for queryset in _reference_querysets())
        return
    for data in _REFERENCE_DATA:
        for restored in serializers.deserialize("json", data, handle_forward_references=True):
            restored.save()


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_behind(django_db_setup, django_db_blocker):
    """At the end of the run, end the sessions still on the test database (a WebSocket test's channel-layer
    listener, a server a test killed), so that the test database can be dropped."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _fresh_reference_data():
    """Reference data is cached per process for a few seconds (nexus.refcache); a test rebuilds the
    database under it (house accounts recreated after a flush, rates and blacklist entries added)."""
    refcache.clear()
    yield
    refcache.clear()


# An address a page would load from (or send to) another site: an attribute or a CSS url() holding an
# absolute or protocol-relative URL. XML namespaces (xmlns="http://www.w3.org/...") load nothing.
_OFF_SITE = re.compile(r"""(?:\b(?:src|href|action|srcset|poster)\s*=\s*["']?|url\(\s*["']?)(?:https?:)?//""", re.I)


def off_site_references(html: str) -> list[str]:
    """Where ``html`` would fetch from another site (a CDN, a font or image host): empty for a self-contained
    page. Precise where a plain search for "cdn" is not (a random token may contain those letters)."""
    return [html[match.start():match.end() + 40] for match in _OFF_SITE.finditer(html)]


def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


@pytest.fixture
def world(db) -> World:
    """The one shared world (tests/world.py)."""
    return build_world()


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


# The suite's tiers (pyproject.toml's markers; scripts/test.py runs the in-process tier in parallel, then
# the others one test at a time, since they start real processes and some of them measure time):
# "server" (gunicorn, uvicorn, a job worker as processes), "browser" (Chromium), "cluster" (Patroni,
# PgBouncer, HAProxy), "compose" (containers). Everything else is in-process.
TIERS = {
    "cluster": ("tests/cluster/",),
    "browser": ("tests/browser/",),
    "compose": ("tests/compose/",),
    "server": ("tests/hardening/test_adversary.py", "tests/hardening/test_crash_safety.py",
               "tests/hardening/test_limits.py", "tests/hardening/test_production.py", "tests/jobs/",
               "tests/nexus/test_examples_live.py", "tests/nexus/test_generated_client.py",
               "tests/nexus/test_readme_session.py", "tests/nexus/test_reference_at_once.py", "tests/realtime/"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for tier, prefixes in TIERS.items():
            if item.nodeid.startswith(prefixes):
                item.add_marker(getattr(pytest.mark, tier))
