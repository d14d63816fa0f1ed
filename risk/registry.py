"""The detectors named in settings.RISK_DETECTORS, loaded once."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .detectors import Detector

TRIGGERS = {"login", "transaction", "blocked_request"}


def detector_paths() -> list[str]:
    return list(getattr(settings, "RISK_DETECTORS", []))


@cache
def detectors_for(trigger: str) -> tuple[Detector, ...]:
    return tuple(d for d in (import_string(path)() for path in detector_paths()) if d.trigger == trigger)
