from django.apps import AppConfig


class NexusConfig(AppConfig):
    """The ground layer as an app: it owns the throttle counters' table and project-wide commands."""

    name = "nexus"
    verbose_name = "Nexus Bank platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings
        from django.core import signals
        from django.core.cache import close_caches

        # Django closes every cache it has opened at the end of each request (``close_caches`` on
        # ``request_finished``): a look-up of the thread's caches, about 1 % of an API read's CPU in
        # Django's own frames. Where no configured backend has anything to close, nothing is looked up.
        if caches_hold_nothing(settings.CACHES):
            signals.request_finished.disconnect(close_caches)


def caches_hold_nothing(caches: dict) -> bool:
    """Whether every backend in ``caches`` (the CACHES setting) closes with the base class's ``close``, which
    does nothing: the in-memory cache (the default), the database's, the file system's, Django's Redis
    cache (its pool outlives requests). Memcached's closes its client: it keeps the receiver."""
    from django.core.cache.backends.base import BaseCache
    from django.utils.module_loading import import_string

    return all(import_string(cache["BACKEND"]).close is BaseCache.close for cache in caches.values())
