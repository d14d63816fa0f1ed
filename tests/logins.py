"""The one way a test logs in through the API (``POST /auth/jwt/create/``), as a client would."""

from rest_framework.test import APIClient

from .factories import PASSWORD

WRONG_PASSWORD = "wrong-password-000"


def login(client, email, password=PASSWORD, **meta):
    """Log in with ``client`` (a fresh one when None); ``meta`` sets the request's address and headers."""
    return (client or APIClient()).post("/auth/jwt/create/", {"email": email, "password": password}, format="json",
                                        **meta)


def attempt_login(client, email, password=WRONG_PASSWORD, **meta):
    """A login with a wrong password unless one is given: the lockout, throttle and risk-rule tests."""
    return login(client, email, password, **meta)
