"""The in-process WSGI app of the hardening tests (their world is the shared one: tests/world.py)."""


import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@pytest.fixture
def wsgi_app():
    """Django's real WSGI handler (middleware and all), inside the test's database transaction.

    Django closes "old" connections at the start and end of each request; inside a test that would
    close the connection holding the test transaction, so (like Django's test client) we unhook it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
