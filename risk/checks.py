from django.core.checks import Error, register
from django.utils.module_loading import import_string

from .detectors import Detector
from .registry import TRIGGERS, detector_paths


@register()
def check_detectors(app_configs=None, **kwargs):
    """settings.RISK_DETECTORS must name Detector classes with a code, an event and a known trigger."""
    errors = []
    codes = set()
    for path in detector_paths():
        try:
            cls = import_string(path)
        except ImportError as exc:
            errors.append(Error(f"Cannot import risk detector {path!r}: {exc}", id="risk.E001"))
            continue
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            errors.append(Error(f"{path!r} is not a risk.detectors.Detector subclass.", id="risk.E002"))
            continue
        if not cls.code or not cls.event or cls.trigger not in TRIGGERS:
            errors.append(Error(f"{path!r} needs a code, an event and a trigger in {sorted(TRIGGERS)}.",
                                id="risk.E003"))
        if cls.severity not in {"low", "medium", "high", "critical"}:
            errors.append(Error(f"{path!r} has an unknown severity {cls.severity!r}.", id="risk.E004"))
        if cls.code in codes:
            errors.append(Error(f"Two risk detectors use the code {cls.code!r}.", id="risk.E005"))
        codes.add(cls.code)
    return errors
