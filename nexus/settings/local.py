"""Developer machine: DEBUG on, a throw-away secret when none is set."""

from .base import *  # noqa: F403
from .base import env, secret_dependent

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-dev-only-not-a-secret-" + "x" * 32)
globals().update(secret_dependent(SECRET_KEY, production=False))  # embedded PostgreSQL unless DATABASE_URL
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
