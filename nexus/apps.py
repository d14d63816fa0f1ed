from django.apps import AppConfig


class NexusConfig(AppConfig):
    """The ground layer as an app: it owns the throttle counters' table and project-wide commands."""

    name = "nexus"
    verbose_name = "Nexus Bank platform"
    default_auto_field = "django.db.models.BigAutoField"
