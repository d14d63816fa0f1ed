from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = "Risk management"

    def ready(self):
        from . import checks, signals  # noqa: F401 - registers the system check and the receivers
