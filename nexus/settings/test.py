"""Test run: real PostgreSQL (embedded unless DATABASE_URL), fast hashing, DEBUG off."""

from .base import *  # noqa: F403
from .base import env, secret_dependent

DEBUG = False
SECRET_KEY = "test-only-not-a-secret-" + "t" * 40  # noqa: S105
globals().update(secret_dependent(SECRET_KEY, production=False))  # embedded PostgreSQL unless DATABASE_URL
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# A second connection to the test database, for the read-routing tests (tests/nexus/test_db_router.py),
# which turn routing on with DATABASE_REPLICA_ALIAS; every other test reads from "default" only.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {**DATABASES["default"]["TEST"], "MIRROR": "default"}}  # noqa: F405
DATABASE_REPLICA_ALIAS = None
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttles are tested explicitly with their own rates.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": "100000/min", "user": "100000/min", "login": "100000/min", "admin_login": "100000/min",
    "register": "100000/min",
}}
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
# Controls across requests (v1.3) are tested explicitly with the contract's figures (override_settings in
# tests/api/test_controls_across_requests.py); other tests move more money than a customer may without a
# code in a day, or than one staff member may deposit alone, as the throttles above.
STEP_UP_DAILY_TOTAL = "1000000000000"
DUAL_CONTROL_CEILING = "1000000000000"
# In-process tests have no worker: a commit that owes jobs drains the queue in the committing thread (as
# Django's on_commit hooks, captured by the tests, did before the queue). Live-server tests that run a
# real worker set NEXUS_JOBS_EAGER=false.
NEXUS_JOBS_EAGER = env.bool("NEXUS_JOBS_EAGER", default=True)  # noqa: F405
