"""nexus.pgbackend: a persistent connection is checked (SELECT 1) only when it may have gone stale."""

import time

import pytest
from django.db import connections

from nexus import pgbackend  # noqa: F401 (the package the settings name as the ENGINE)
from nexus.pgbackend import base

pytestmark = pytest.mark.django_db


connection = connections["default"]


def _checks(monkeypatch) -> list[bool]:
    checks = []
    monkeypatch.setattr(type(connection), "is_usable", lambda self: checks.append(True) or True)
    monkeypatch.setattr(connection, "health_check_enabled", True)
    return checks


def _request_begins():
    connection.health_check_done = False  # what Django does between two requests
    connection.close_if_health_check_failed()


def test_the_settings_use_it():
    assert isinstance(connection, base.DatabaseWrapper)


def test_a_connection_in_steady_use_is_not_checked_an_idle_one_is(monkeypatch):
    connection.ensure_connection()
    checks = _checks(monkeypatch)
    _request_begins()  # a connection never used by a request: checked as Django would
    _request_begins()  # the next request, at once: in steady use
    _request_begins()
    assert checks == [True]
    monkeypatch.setattr(connection, "_began_at", time.monotonic() - base.FRESH_SECONDS - 0.1)
    _request_begins()  # idle for longer than FRESH_SECONDS: a restart may have broken it
    assert checks == [True, True]
