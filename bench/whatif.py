"""What-if switches: measure a proposed change to code the benchmark does not own, before anyone writes it.

``python -m bench --what-if no-health-check,stateless-user`` applies these patches inside each gunicorn
worker (from ``bench/gunicorn_conf.py``, after the app has loaded). The result JSON and table say
which were on. They exist to put a number on a recommendation in bench/README.md; none of them
is how the app ships.

  no-health-check  CONN_HEALTH_CHECKS off: no ``SELECT 1`` round trip at the start of each request
  stateless-user   JWT authentication builds the user from the token instead of reading its row on
                   every request (a real version would carry is_staff in the token and accept that
                   a deactivation bites only when the 15-minute access token expires)
  quiet-log        LOG_LEVEL=WARNING: no JSON access-log line per request
  gc-freeze        gc.freeze() once the app is loaded: the collector stops rescanning the objects
                   of the loaded app (Django, DRF, the URL conf) in every full collection
"""

from __future__ import annotations

SWITCHES = ("no-health-check", "stateless-user", "quiet-log", "gc-freeze")


def env_for(names: list[str]) -> dict[str, str]:
    """Environment the gunicorn process needs for these switches."""
    extra = {"BENCH_WHATIF": ",".join(names)} if names else {}
    if "quiet-log" in names:
        extra["LOG_LEVEL"] = "WARNING"
    return extra


def apply(names: list[str]) -> None:
    for name in names:
        globals()["_" + name.replace("-", "_")]()


def _no_health_check() -> None:
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    connections["default"].health_check_enabled = False


def _stateless_user() -> None:
    from rest_framework_simplejwt.settings import api_settings

    from api.authentication import JWTAuthentication
    from api.models import User

    field = User._meta.get_field(api_settings.USER_ID_FIELD)

    def get_user(self, validated_token):
        return User(**{field.attname: field.to_python(validated_token[api_settings.USER_ID_CLAIM])}, is_active=True)

    JWTAuthentication.get_user = get_user


def _quiet_log() -> None:
    """Nothing to patch: LOG_LEVEL is set in the server's environment (env_for)."""


def _gc_freeze() -> None:
    import gc

    gc.collect()
    gc.freeze()
