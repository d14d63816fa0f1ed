from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Core banking"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the core's reactions to its own signals
