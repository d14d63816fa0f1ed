"""The detectors named in settings.RISK_DETECTORS, loaded once."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .detectors import Detector

DEFAULT_DETECTORS = [
    "risk.detectors.impossible_travel.ImpossibleTravel",
    "risk.detectors.credential_stuffing.CredentialStuffing",
    "risk.detectors.brute_force.BruteForce",
    "risk.detectors.velocity.Velocity",
    "risk.detectors.unusual_hour.UnusualHour",
    "risk.detectors.blacklisted_ip.BlacklistedIP",
]
TRIGGERS = {"login", "transaction", "blocked_request"}


def detector_paths() -> list[str]:
    return list(getattr(settings, "RISK_DETECTORS", DEFAULT_DETECTORS))


@cache
def detectors_for(trigger: str) -> tuple[Detector, ...]:
    return tuple(d for d in (import_string(path)() for path in detector_paths()) if d.trigger == trigger)
