from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "business"
    verbose_name = "Business intelligence"

    def ready(self):
        from . import signals  # noqa: F401 - connects the receivers
