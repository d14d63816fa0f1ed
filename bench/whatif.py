"""What-if switches: measure a proposed change before anyone writes it.

``python -m bench --what-if no-health-check,quiet-log`` starts gunicorn with these switches. The
result JSON and table say which were on. They exist to put a number on a recommendation in
bench/README.md; none of them is how the app ships. Each is a documented setting of the app (an
environment variable) or of the Python runtime; none patches the app's code, so a refactor of the
app cannot silently change what a switch measures.

  no-health-check  DATABASE_CONN_HEALTH_CHECKS=false: no ``SELECT 1`` round trip at the start of each request
  quiet-log        LOG_LEVEL=WARNING: no JSON access-log line per request
  gc-freeze        gc.freeze() once the app is loaded (bench/gunicorn_conf.py): the collector stops
                   rescanning the objects of the loaded app (Django, DRF, the URL conf) in every full collection
"""

from __future__ import annotations

SWITCHES = ("no-health-check", "quiet-log", "gc-freeze")
_ENVIRONMENT = {"no-health-check": {"DATABASE_CONN_HEALTH_CHECKS": "false"}, "quiet-log": {"LOG_LEVEL": "WARNING"}}


def env_for(names: list[str]) -> dict[str, str]:
    """Environment the gunicorn process needs for these switches."""
    extra = {"BENCH_WHATIF": ",".join(names)} if names else {}
    for name in names:
        extra.update(_ENVIRONMENT.get(name, {}))
    return extra


def apply(names: list[str]) -> None:
    """In each worker, after the app has loaded: the switches that act on the Python runtime."""
    if "gc-freeze" in names:
        import gc

        gc.collect()
        gc.freeze()
